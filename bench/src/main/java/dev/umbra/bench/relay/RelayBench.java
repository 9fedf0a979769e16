package dev.umbra.bench.relay;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.bench.BenchRuns;
import dev.umbra.bench.BenchTokens;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Relay benchmark (not a test; docs/benchmarks.md): in one run, against the same traffic,
 *
 * <ul>
 *   <li>latency p50/p99 of 1 KiB frames echoed at fixed rates: through one relay instance, across
 *       two instances over a mesh link, across two instances over Redis pub/sub (a third instance
 *       started with the mesh off), through nginx proxying WebSocket, and direct;
 *   <li>bulk MB/s of 32 KiB frames one way with a 256-frame window, same five paths;
 *   <li>bulk MB/s through a TCP forward with Noise at both ends (the real client and daemon), one
 *       instance and across two;
 *   <li>10 000 idle connections on one instance started with a 1 GiB heap: heap after GC;
 *   <li>{@code scale} (not in the default parts): three instances holding 5 000 idle daemons and 5
 *       000 idle clients plus 200 active channels across instances ({@link RelayScale}).
 * </ul>
 *
 * Relays run as separate JVMs (as in production); Redis from UMBRA_REDIS_URL (default localhost).
 * Options (system properties): umbra.bench.seconds (measure per point, default 4),
 * umbra.bench.rates (default 1000,5000), umbra.bench.bulkMiB (default 256), umbra.bench.bulkWarmups
 * (uncounted bulk passes per relay, default 2), umbra.bench.idle (10000), umbra.bench.debugPct
 * (print each latency point's percentile ladder), umbra.bench.warmupSeconds (latency warm-up per
 * relay path, default 10), umbra.bench.rounds (latency rounds per rate, paths alternating, and
 * Noise bulk rounds after its warm-ups; medians reported; default 3), umbra.bench.warmupRounds
 * (unmeasured latency rounds per rate before those, the same points at the same rate; default 1),
 * umbra.bench.noiseWarmups (unmeasured Noise bulk passes, one instance and two in turn; default 4),
 * umbra.bench.warmupConnections (connections the latency warm-up of a path is spread over; 5).
 */
public final class RelayBench {
  /** What the JVM proxy baseline is, by -Dumbra.bench.proxyMode (ws, the default; tcp; socket). */
  private static final String PROXY_LABEL =
      switch (System.getProperty("umbra.bench.proxyMode", "ws")) {
        case "tcp" -> "jvm proxy (vert.x tcp bytes)";
        case "socket" -> "jvm proxy (java.net bytes)";
        default -> "jvm proxy (vert.x websocket)";
      };

  static final String TWO_MESH = "relay, across two (mesh link)";
  static final String TWO_REDIS = "relay, across two (Redis)";
  private static final int FRAME = 1024;

  private final Vertx vertx = BenchRuns.vertx();
  private final WebSocketClient wsClient =
      vertx.createWebSocketClient(
          new WebSocketClientOptions()
              .setMaxConnections(25_000)
              .setMaxFrameSize(256 * 1024)
              .setMaxMessageSize(256 * 1024)
              .setConnectTimeout(30_000));
  private final UUID workspace = UUID.randomUUID();
  private final BenchTokens tokens = new BenchTokens();
  private int rounds;
  private int warmupRounds;

  /**
   * umbra.bench.cross=false: no cross-instance latency path, so relay 1 carries the one-instance
   * path alone (its Redis traffic and garbage otherwise share that relay's event loop and heap);
   * the "two" figures then repeat "one".
   */
  private static final boolean CROSS =
      Boolean.parseBoolean(System.getProperty("umbra.bench.cross", "true"));

  static double median(double[] values) {
    double[] v = values.clone();
    java.util.Arrays.sort(v);
    return v[v.length / 2];
  }

  public static void main(String[] args) {
    dev.umbra.bench.BenchRuns.runAndExit(() -> new RelayBench().run());
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
  }

  private void run() throws Exception {
    int seconds = Integer.getInteger("umbra.bench.seconds", 4);
    String[] rates = System.getProperty("umbra.bench.rates", "1000,5000").split(",");
    long bulkBytes = Long.getLong("umbra.bench.bulkMiB", 256) * 1024 * 1024;
    int idle = Integer.getInteger("umbra.bench.idle", 10_000);
    rounds = Math.max(1, Integer.getInteger("umbra.bench.rounds", 3));
    warmupRounds = Math.max(0, Integer.getInteger("umbra.bench.warmupRounds", 1));
    List<String> parts =
        List.of(System.getProperty("umbra.bench.parts", "latency,bulk,noise,idle").split(","));
    System.out.println(dev.umbra.bench.BenchMachine.describe());
    Path tmp = Files.createTempDirectory("umbra-relay-bench");
    Map<String, String> env = relayEnvironment(tmp);
    Map<String, String> viaRedis = new HashMap<>(env);
    viaRedis.put("UMBRA_RELAY_MESH", "off");
    if (parts.stream().anyMatch(p -> !p.equals("scale"))) {
      pathParts(tmp, env, viaRedis, seconds, rates, bulkBytes, idle, parts);
    }
    if (parts.contains("scale")) {
      System.out.println("\nstarting three relay instances with the mesh for the scale run ...");
      try (RelayProcess s1 = RelayProcess.start("1g", env, tmp.resolve("scale1.log"));
          RelayProcess s2 = RelayProcess.start("1g", env, tmp.resolve("scale2.log"));
          RelayProcess s3 = RelayProcess.start("1g", env, tmp.resolve("scale3.log"))) {
        new RelayScale(vertx, wsClient, tokens, workspace).run(List.of(s1, s2, s3), seconds * 2);
      }
    }
  }

  /** Every part but scale: three instances, nginx, the bare proxy and an echo server. */
  private void pathParts(
      Path tmp,
      Map<String, String> env,
      Map<String, String> viaRedis,
      int seconds,
      String[] rates,
      long bulkBytes,
      int idle,
      List<String> parts)
      throws Exception {
    System.out.println(
        "starting three relay instances (1 GiB heap each; the third without the mesh, so its"
            + " frames cross Redis), nginx and an echo server ...");
    try (RelayProcess r1 = RelayProcess.start("1g", env, tmp.resolve("relay1.log"));
        RelayProcess r2 = RelayProcess.start("1g", env, tmp.resolve("relay2.log"));
        RelayProcess r3 = RelayProcess.start("1g", viaRedis, tmp.resolve("relay3.log"))) {
      HttpServer echo = echoServer();
      try (Nginx nginx = Nginx.start(echo.actualPort(), tmp.resolve("nginx"));
          JvmProxy proxy = JvmProxy.start(echo.actualPort(), tmp.resolve("proxy.log"))) {
        URI viaProxy = URI.create("ws://127.0.0.1:" + proxy.port);
        URI direct = URI.create("ws://127.0.0.1:" + echo.actualPort());
        URI viaNginx = URI.create("ws://127.0.0.1:" + nginx.port);
        String target = "bench-" + UUID.randomUUID();
        EchoDaemon daemon1 =
            EchoDaemon.connect(
                wsClient, r1.ws(), workspace, target, tokens.machine(workspace, target, "relay"));
        System.out.printf(
            "%n%-34s %10s %10s %10s%n", "latency, 1 KiB echo", "rate/s", "p50 us", "p99 us");
        if (parts.contains("latency")) {
          // JIT warm-up of both relays and of this JVM's paths, not measured: a relay's C2 compiler
          // keeps a core busy for several seconds after start, which would land in the first rounds
          int warm = Integer.getInteger("umbra.bench.warmupSeconds", 10);
          warmUp(true, r1.ws(), target, warm);
          if (CROSS) {
            warmUp(true, r2.ws(), target, warm);
            warmUp(true, r3.ws(), target, warm);
          }
          latency(false, viaNginx.resolve("/echo"), null, 5000, 2);
          latency(false, direct.resolve("/echo"), null, 5000, 2);
          warmUp(false, viaProxy.resolve("/echo"), null, warm);
        }
        for (String rs : parts.contains("latency") ? rates : new String[0]) {
          latencyAtRate(
              Integer.parseInt(rs.trim()),
              List.of(r1, r2, r3),
              target,
              viaProxy,
              viaNginx,
              direct,
              seconds,
              new BaselinePids(List.of(proxy.pid()), List.of(nginx.pid())));
        }
        if (parts.contains("bulk")) {
          new RawBulk(vertx, workspace, rounds, this::client)
              .run(List.of(r1, r2, r3), target, viaNginx, direct, bulkBytes, List.of(nginx.pid()));
        }
        daemon1.close();
        if (parts.contains("noise")) {
          new NoiseBulk(vertx, workspace, tokens, rounds).run(r1, r2, tmp, bulkBytes);
        }
        if (parts.contains("idle")) {
          idleConnections(r1, idle);
        }
      }
      await(echo.close());
    }
  }

  /**
   * The relays' environment: session keys from this bench's JWKS endpoint, a bus prefix of this
   * run, and rate limits far above what the bench sends (they would measure the limiter).
   */
  private Map<String, String> relayEnvironment(Path tmp) throws Exception {
    URI controlPlane = await(tokens.serveJwks(vertx));
    Map<String, String> env = new HashMap<>();
    env.put("UMBRA_CONTROL_PLANE_URL", controlPlane.toString());
    env.put(
        "UMBRA_REDIS_URL",
        System.getenv().getOrDefault("UMBRA_REDIS_URL", "redis://127.0.0.1:6379"));
    env.put("UMBRA_BUS_PREFIX", "bench" + UUID.randomUUID().toString().substring(0, 8) + ":");
    env.put("UMBRA_HOME", tmp.resolve("home").toString());
    env.put("UMBRA_RELAY_CONN_RATE", "1000000");
    env.put("UMBRA_RELAY_CONN_BURST", "1000000");
    env.put("UMBRA_RELAY_MSG_RATE", "10000000");
    env.put("UMBRA_RELAY_MSG_BURST", "10000000");
    env.put("UMBRA_RELAY_MESH", "on");
    // every connection of the bench comes from 127.0.0.1: the kit's edge caps (3 000 per service,
    // 200 per address) would close the idle and scale parts' connections at accept, which the
    // client sees as connection resets; a relay behind a balancer lists it in
    // UMBRA_TRUSTED_PROXIES instead (docs/configuration.md)
    env.put("UMBRA_HTTP_MAX_CONNECTIONS", "30000");
    env.put("UMBRA_HTTP_MAX_CONNECTIONS_PER_IP", "30000");
    env.put("UMBRA_INTERNAL_TOKEN", "bench-" + UUID.randomUUID() + UUID.randomUUID());
    return env;
  }

  /**
   * One offered rate: the paths alternate round by round; the medians of the rounds give the
   * ratios.
   */
  private void latencyAtRate(
      int rate,
      List<RelayProcess> relays,
      String target,
      URI viaProxy,
      URI viaNginx,
      URI direct,
      int seconds,
      BaselinePids pids)
      throws Exception {
    // paths alternate round by round, so a slow spell of this shared machine hits them alike;
    // the median of the rounds is what the ratios use
    List<Stats> one = new ArrayList<>();
    List<Stats> two = new ArrayList<>();
    List<Stats> redis = new ArrayList<>();
    List<Stats> nx = new ArrayList<>();
    List<Stats> dir = new ArrayList<>();
    List<Stats> px = new ArrayList<>();
    List<Long> r1 = List.of(relays.get(0).process.pid());
    List<Long> r12 = List.of(relays.get(0).process.pid(), relays.get(1).process.pid());
    List<Long> r13 = List.of(relays.get(0).process.pid(), relays.get(2).process.pid());
    // unmeasured rounds first, the same points at the same rate: the one-connection warm-up at
    // 5000/s leaves code a new connection at another rate takes still to be compiled (a relay's
    // JFR showed C2 compiling the mesh's write path and de-optimizing on each new connection
    // during the first measured rounds, whose mesh p99 fell round after round: docs/benchmarks.md)
    for (int round = 1 - warmupRounds; round <= rounds; round++) {
      if (round == 1) {
        List.of(one, two, redis, nx, dir, px).forEach(List::clear);
      }
      px.add(
          ProcStats.watched(
              "jvm proxy",
              pids.proxy(),
              rate,
              seconds,
              () -> latency(false, viaProxy.resolve("/echo"), null, rate, seconds)));
      one.add(
          ProcStats.watched(
              "relay one",
              r1,
              rate,
              seconds,
              () -> latency(true, relays.get(0).ws(), target, rate, seconds)));
      nx.add(
          ProcStats.watched(
              "nginx",
              pids.nginx(),
              rate,
              seconds,
              () -> latency(false, viaNginx.resolve("/echo"), null, rate, seconds)));
      two.add(
          CROSS
              ? ProcStats.watched(
                  "relay two (mesh)",
                  r12,
                  rate,
                  seconds,
                  () -> latency(true, relays.get(1).ws(), target, rate, seconds))
              : one.getLast());
      dir.add(latency(false, direct.resolve("/echo"), null, rate, seconds));
      redis.add(
          CROSS
              ? ProcStats.watched(
                  "relay two (Redis)",
                  r13,
                  rate,
                  seconds,
                  () -> latency(true, relays.get(2).ws(), target, rate, seconds))
              : one.getLast());
      printRound(round, rate, one, two, redis, nx, dir, px);
    }
    report(rate, one, two, redis, nx, dir, px);
  }

  /** One rate's medians of the rounds, and their ratios. */
  private void report(
      int rate,
      List<Stats> one,
      List<Stats> two,
      List<Stats> redis,
      List<Stats> nx,
      List<Stats> dir,
      List<Stats> px) {
    Stats mOne = Stats.median(one);
    Stats mTwo = Stats.median(two);
    Stats mRedis = Stats.median(redis);
    Stats mNx = Stats.median(nx);
    Stats mDir = Stats.median(dir);
    print("relay, one instance", rate, mOne);
    print(TWO_MESH, rate, mTwo);
    print(TWO_REDIS, rate, mRedis);
    print("nginx", rate, mNx);
    print("direct", rate, mDir);
    Stats mPx = Stats.median(px);
    print(PROXY_LABEL, rate, mPx);
    printRatios(mOne, mTwo, mRedis, mNx, mDir, mPx);
  }

  /** One round's p99 of every path. */
  private static void printRound(
      int round,
      int rate,
      List<Stats> one,
      List<Stats> two,
      List<Stats> redis,
      List<Stats> nx,
      List<Stats> dir,
      List<Stats> px) {
    System.out.printf(
        "  %s at %d/s: p99 us one %.0f, two mesh %.0f, two redis %.0f, nginx %.0f, direct %.0f, jvm proxy %.0f%n",
        round >= 1 ? "round " + round : "warm-up round (not counted)",
        rate,
        one.getLast().p99Micros(),
        two.getLast().p99Micros(),
        redis.getLast().p99Micros(),
        nx.getLast().p99Micros(),
        dir.getLast().p99Micros(),
        px.getLast().p99Micros());
  }

  /** The ratios of one rate's medians. */
  private void printRatios(Stats mOne, Stats mTwo, Stats mRedis, Stats mNx, Stats mDir, Stats mPx) {
    System.out.printf(
        "ratio p99 relay(one)/nginx = %.2f, relay(two)/nginx = %.2f, relay(one)/direct = %.2f (medians of %d rounds)%n",
        mOne.p99Micros() / mNx.p99Micros(),
        mTwo.p99Micros() / mNx.p99Micros(),
        mOne.p99Micros() / mDir.p99Micros(),
        rounds);
    System.out.printf(
        "ratio p99 two(mesh)/one = %.2f, two(redis)/one = %.2f, two(mesh)/two(redis) = %.2f; p50 two(mesh)/one = %.2f, two(redis)/one = %.2f%n",
        mTwo.p99Micros() / mOne.p99Micros(),
        mRedis.p99Micros() / mOne.p99Micros(),
        mTwo.p99Micros() / mRedis.p99Micros(),
        mTwo.p50Micros() / mOne.p50Micros(),
        mRedis.p50Micros() / mOne.p50Micros());
    System.out.printf(
        "ratio p99 jvm proxy/nginx = %.2f, relay(one)/jvm proxy = %.2f%n",
        mPx.p99Micros() / mNx.p99Micros(), mOne.p99Micros() / mPx.p99Micros());
  }

  /** The processes of the two baselines, for {@link ProcStats}. */
  private record BaselinePids(List<Long> proxy, List<Long> nginx) {}

  private static void print(String what, int rate, Stats s) {
    System.out.printf("%-34s %10d %10.0f %10.0f%n", what, rate, s.p50Micros(), s.p99Micros());
  }

  // ------------------------------------------------------------------ echo / sink server (nginx
  // backend, direct)

  private HttpServer echoServer() throws Exception {
    return await(
        vertx
            .createHttpServer(
                new HttpServerOptions()
                    .setMaxWebSocketFrameSize(256 * 1024)
                    .setMaxWebSocketMessageSize(256 * 1024)
                    .setTcpNoDelay(true))
            .webSocketHandler(
                ws -> {
                  if (ws.path().startsWith("/sink")) {
                    long[] n = {0};
                    ws.binaryMessageHandler(
                        b -> {
                          if (++n[0] % 64 == 0) {
                            ws.writeBinaryMessage(Buffer.buffer().appendLong(n[0]));
                          }
                        });
                  } else {
                    ws.binaryMessageHandler(ws::writeBinaryMessage);
                  }
                })
            .listen(0, "127.0.0.1"));
  }

  WebSocket client(boolean relay, URI url, String target, long channel) throws Exception {
    WebSocketConnectOptions o = new WebSocketConnectOptions().setAbsoluteURI(url.toString());
    if (relay) {
      o.putHeader("authorization", "Bearer " + tokens.member(workspace, "bench", "relay"));
    }
    WebSocket ws = await(wsClient.connect(o));
    if (relay) {
      ws.writeBinaryMessage(
          Buffer.buffer(
              RelayFrame.newBuilder()
                  .setType(FrameType.FRAME_TYPE_OPEN)
                  .setWorkspaceId(workspace.toString())
                  .setTargetId(target)
                  .setChannelId(channel)
                  .setPayload(ByteString.copyFrom(new byte[] {1}))
                  .build()
                  .toByteArray()));
      Thread.sleep(300); // the relay subscribes the channel before forwarding
    }
    return ws;
  }

  // ------------------------------------------------------------------ latency

  /**
   * A path's JIT warm-up, not measured: {@code seconds} at 5000/s over {@code
   * umbra.bench.warmupConnections} (default 5) connections one after the other. Each latency point
   * opens its own connection; with the warm-up on one connection, the relays compiled their data
   * path for data alone and deoptimised it when the first measured points' connections were set up
   * (uncommon traps in the channel read and the WebSocket encoder, JIT log of 2026-12-07).
   */
  private void warmUp(boolean relay, URI url, String target, int seconds) throws Exception {
    int connections = Math.max(1, Integer.getInteger("umbra.bench.warmupConnections", 5));
    for (int i = 0; i < connections; i++) {
      latency(relay, url, target, 5000, Math.max(1, seconds / connections));
    }
  }

  private Stats latency(boolean relay, URI url, String target, int rate, int seconds)
      throws Exception {
    long channel = System.nanoTime() | 1;
    WebSocket ws = client(relay, url, target, channel);
    long[] samples = new long[rate * (seconds + 2)];
    int[] n = {0};
    long warmEnd = System.nanoTime() + 1_000_000_000L;
    long end = warmEnd + seconds * 1_000_000_000L;
    ws.binaryMessageHandler(
        buf -> {
          long sent;
          if (relay) {
            try {
              sent =
                  Buffer.buffer(
                          RelayFrame.parseFrom(buf.getBytes())
                              .getPayload()
                              .substring(0, 8)
                              .toByteArray())
                      .getLong(0);
            } catch (InvalidProtocolBufferException e) {
              return;
            }
          } else {
            sent = buf.getLong(0);
          }
          if (sent >= warmEnd && sent < end && n[0] < samples.length) {
            samples[n[0]++] = System.nanoTime() - sent;
          }
        });
    CompletableFuture<Void> done = new CompletableFuture<>();
    int perTick = Math.max(1, rate / 1000);
    long period = rate >= 1000 ? 1 : 1000 / rate;
    byte[] pad = new byte[FRAME - 8];
    RelayFrame.Builder template =
        RelayFrame.newBuilder()
            .setType(FrameType.FRAME_TYPE_DATA)
            .setWorkspaceId(workspace.toString())
            .setTargetId(target == null ? "x" : target)
            .setChannelId(channel);
    vertx.setPeriodic(
        period,
        t -> {
          long now = System.nanoTime();
          if (now > end) {
            vertx.cancelTimer(t);
            vertx.setTimer(500, x -> done.complete(null));
            return;
          }
          for (int i = 0; i < perTick; i++) {
            Buffer payload = Buffer.buffer(FRAME).appendLong(System.nanoTime()).appendBytes(pad);
            if (relay) {
              ws.writeBinaryMessage(
                  Buffer.buffer(
                      template
                          .setPayload(ByteString.copyFrom(payload.getBytes()))
                          .build()
                          .toByteArray()));
            } else {
              ws.writeBinaryMessage(payload);
            }
          }
        });
    done.get(seconds + 30L, TimeUnit.SECONDS);
    await(ws.close());
    return Stats.of(samples, n[0]);
  }

  // ------------------------------------------------------------------ idle connections

  private void idleConnections(RelayProcess r, int count) throws Exception {
    System.out.printf("%nidle connections on one instance (-Xmx1g): opening %d ...%n", count);
    String token = tokens.member(workspace, "idle", "relay");
    List<WebSocket> open = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int i = 0; i < count; i += 200) {
      List<Future<WebSocket>> batch = new ArrayList<>();
      for (int j = i; j < Math.min(count, i + 200); j++) {
        batch.add(
            wsClient.connect(
                new WebSocketConnectOptions()
                    .setAbsoluteURI(r.ws().toString())
                    .putHeader("authorization", "Bearer " + token)));
      }
      for (Future<WebSocket> f : batch) {
        open.add(await(f));
      }
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    Thread.sleep(2000);
    r.gc();
    Thread.sleep(500);
    double heap = r.metric("jvm_memory_used_bytes{area=\"heap\"");
    double conns = r.metric("umbra_relay_connections{role=\"client\"");
    System.out.printf(
        "connected %d in %d ms; relay reports %.0f client connections; heap after GC %.0f MiB (%.1f KiB per connection); process alive: %s%n",
        open.size(),
        ms,
        conns,
        heap / 1048576,
        heap / 1024 / Math.max(1, conns),
        r.process.isAlive());
    for (WebSocket ws : open) {
      ws.close();
    }
  }
}
