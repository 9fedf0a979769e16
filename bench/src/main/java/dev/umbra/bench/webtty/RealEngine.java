package dev.umbra.bench.webtty;

import dev.umbra.bench.BenchTokens;
import dev.umbra.client.http.ClientTls;
import dev.umbra.client.tty.ServerTrust;
import dev.umbra.client.tty.TtyClient;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.daemon.tty.AuthorizedKeys;
import dev.umbra.daemon.tty.TtyServer;
import dev.umbra.daemon.tty.TtyServerConfig;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.config.Env;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.db.PgLocation;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.proto.webtty.JoinPolicy;
import dev.umbra.proto.webtty.ServerPolicy;
import dev.umbra.webtty.WebTtyService;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link WebTtyBench}'s engine column: a real webtty-engine (its own database and Redis prefix)
 * with daemon WebTTY servers running the measured commands and a client, tokens signed by the
 * bench.
 */
final class RealEngine implements AutoCloseable {
  // built as the service's own Main builds it (ServiceMain): epoll, its metrics registry
  final PrometheusMeterRegistry registry = Metrics.newRegistry();
  final Vertx vertx = Metrics.newVertx(registry);
  final UUID ws = UUID.randomUUID();
  final BenchTokens tokens = new BenchTokens();
  final Ed25519KeyPair clientSign = Ed25519KeyPair.generate();
  final X25519KeyPair clientKx = X25519KeyPair.generate();
  final List<TtyServer> servers = new ArrayList<>();
  PgLocation admin;
  String dbName;
  RedisBus bus;
  WebTtyService service;
  URI url;
  Path dir;

  static RealEngine start(Path dir) throws Exception {
    RealEngine e = new RealEngine();
    e.dir = dir;
    URI pgServer =
        URI.create(
            System.getenv()
                .getOrDefault(
                    "UMBRA_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"));
    String redis = System.getenv().getOrDefault("UMBRA_BENCH_REDIS_URL", "redis://127.0.0.1:6379");
    e.admin = PgLocation.parse(pgServer).withDatabase("postgres");
    e.dbName =
        "umbra_bench_webtty_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = DriverManager.getConnection(e.admin.jdbcUrl(), e.admin.jdbcProperties());
        Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + e.dbName);
    }
    String prefix = "bench" + UUID.randomUUID().toString().substring(0, 8) + ":";
    e.bus = RedisBus.create(e.vertx, URI.create(redis), prefix);
    Map<String, String> env = new HashMap<>();
    env.put("UMBRA_PG_URL", e.admin.withDatabase(e.dbName).toUri().toString());
    env.put("UMBRA_REDIS_URL", redis);
    env.put("UMBRA_BUS_PREFIX", prefix);
    env.put("UMBRA_BIND_HOST", "127.0.0.1");
    env.put("UMBRA_HOME", dir.toString());
    env.put("UMBRA_WEBTTY_ENGINE_PORT", "0");
    ServiceConfig cfg = ServiceConfig.load(ServiceName.WEBTTY_ENGINE, new Env(env));
    e.service = new WebTtyService(new ServiceRuntime(cfg, e.bus, e.registry, Clock.systemUTC()));
    e.vertx
        .deployVerticle(e.service)
        .toCompletionStage()
        .toCompletableFuture()
        .get(60, TimeUnit.SECONDS);
    e.service.sessionVerifier().useKeys(e.tokens.publicKeys());
    e.url = URI.create("http://127.0.0.1:" + e.service.actualPort());
    return e;
  }

  TtyServer server(String machine, List<String> command, boolean recording) throws Exception {
    AuthorizedKeys auth = new AuthorizedKeys(dir.resolve("auth-" + machine));
    auth.add(clientSign.publicKey(), "bench");
    TtyServer s =
        new TtyServer(
            vertx,
            new TtyServerConfig(
                url,
                ws,
                machine,
                () -> Future.succeededFuture(tokens.machine(ws, machine, "webtty-engine")),
                Ed25519KeyPair.generate(),
                X25519KeyPair.generate(),
                auth,
                command,
                WebTtyBench.shellEnv(),
                "/tmp",
                ServerPolicy.newBuilder()
                    .setRecording(recording)
                    .setJoin(JoinPolicy.JOIN_POLICY_NOBODY)
                    .build(),
                Clock.systemUTC()),
            dev.umbra.client.http.ClientTls.system());
    s.start().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    servers.add(s);
    return s;
  }

  TtyClient.Options options() {
    return new TtyClient.Options(
        url,
        ws,
        () -> Future.succeededFuture(tokens.member(ws, "bench-user", "webtty-engine")),
        clientSign,
        clientKx,
        ServerTrust.pinned(dir.resolve("pins-" + UUID.randomUUID())),
        List.of(),
        Clock.systemUTC());
  }

  WebTtyBench.Rtt rtt(int keystrokes, int warmup) throws Exception {
    server("bench-echo", List.of("/bin/sh", "-c", WebTtyBench.ECHO_CMD), true);
    LinkedBlockingQueue<byte[]> out = new LinkedBlockingQueue<>();
    TtyClient c =
        TtyClient.open(
                vertx, options(), ClientTls.system(), "bench-echo", 80, 24, "xterm", out::add)
            .toCompletionStage()
            .toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
    StringBuilder seen = new StringBuilder();
    while (!seen.toString().contains("READY")) {
      seen.append(new String(out.take(), StandardCharsets.US_ASCII));
    }
    long[] rtts = new long[keystrokes];
    byte[] x = {'x'};
    for (int i = -warmup; i < keystrokes; i++) {
      long t0 = System.nanoTime();
      c.send(x);
      int got = 0;
      while (got < 1) {
        got += out.take().length;
      }
      if (i >= 0) {
        rtts[i] = System.nanoTime() - t0;
      }
    }
    c.terminate();
    return WebTtyBench.stats(rtts);
  }

  private int bulkRuns;

  WebTtyBench.Bulk bulk(Path file, boolean recording) throws Exception {
    String machine = "bench-bulk-" + (recording ? "rec-" : "norec-") + (++bulkRuns);
    server(machine, List.of("cat", file.toString()), recording);
    AtomicLong bytes = new AtomicLong();
    AtomicLong frames = new AtomicLong();
    CompletableFuture<Integer> exit = new CompletableFuture<>();
    long cpu0 = dev.umbra.bench.BenchRuns.jvmCpuNanos();
    long t0 = System.nanoTime();
    TtyClient.open(
            vertx,
            options(),
            ClientTls.system(),
            machine,
            80,
            24,
            "xterm",
            new TtyClient.Listener() {
              @Override
              public void output(byte[] b) {
                bytes.addAndGet(b.length);
                frames.incrementAndGet();
              }

              @Override
              public void exit(int status) {
                exit.complete(status);
              }

              @Override
              public void closed(String reason) {
                exit.completeExceptionally(new IllegalStateException(reason));
              }
            })
        .toCompletionStage()
        .toCompletableFuture()
        .get(20, TimeUnit.SECONDS);
    exit.get(10, TimeUnit.MINUTES);
    double seconds = (System.nanoTime() - t0) / 1e9;
    double cpuSeconds = (dev.umbra.bench.BenchRuns.jvmCpuNanos() - cpu0) / 1e9;
    System.out.printf(
        Locale.ROOT,
        "            (%d output frames, %.1f KiB each on average; JVM CPU %.2f s per 100 MB)%n",
        frames.get(),
        bytes.get() / 1024.0 / Math.max(1, frames.get()),
        cpuSeconds * 1e8 / Math.max(1, bytes.get()));
    if (recording) {
      service
          .recordingWriter()
          .drained()
          .toCompletionStage()
          .toCompletableFuture()
          .get(5, TimeUnit.MINUTES);
      double stored = (System.nanoTime() - t0) / 1e9;
      if (stored > seconds * 1.1) {
        System.out.printf(
            Locale.ROOT, "            (recording fully stored %.2f s after the start)%n", stored);
      }
    }
    return new WebTtyBench.Bulk(bytes.get(), seconds, cpuSeconds);
  }

  @Override
  public void close() {
    servers.forEach(TtyServer::close);
    try {
      vertx
          .undeploy(service.deploymentID())
          .toCompletionStage()
          .toCompletableFuture()
          .get(20, TimeUnit.SECONDS);
      bus.close();
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // best effort
    }
    try (Connection c = DriverManager.getConnection(admin.jdbcUrl(), admin.jdbcProperties());
        Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)");
    } catch (Exception e) {
      // a leftover bench database is harmless
    }
  }
}
