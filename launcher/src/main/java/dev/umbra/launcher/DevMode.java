package dev.umbra.launcher;

import dev.umbra.controlplane.webapp.WebApp;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.InProcessBus;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.config.ConfigException;
import dev.umbra.kit.config.Env;
import dev.umbra.kit.config.RedisUrl;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.kit.service.Signals;
import dev.umbra.kit.service.UmbraService;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code umbra dev}: the whole platform in one JVM for a newcomer. Every service is its own
 * verticle; PostgreSQL is an embedded real server unless UMBRA_PG_URL is set; the bus is in-process
 * unless UMBRA_REDIS_URL is set. Ctrl-C stops everything cleanly.
 */
final class DevMode {
  static final String READY = "ready";

  private final Env env;
  private final PrintStream out;
  private final PrintStream err;
  private final Path home;
  private final boolean tls;
  private Map<String, String> cliEnv;
  private Vertx vertx;
  private Bus bus;
  private EmbeddedPg embeddedPg;
  private String bootstrapToken;

  /**
   * {@code out} takes what the user reads on the way (addresses, what to try), {@code err} why it
   * did not start or stop cleanly; {@code tls}: serve over TLS 1.3 with the dev CA ({@code umbra
   * dev --tls}).
   */
  DevMode(Env env, PrintStream out, PrintStream err, boolean tls) {
    this.env = env;
    this.out = out;
    this.err = err;
    this.tls = tls;
    this.home = env.path("UMBRA_HOME", Path.of(System.getProperty("user.home"), ".umbra"));
  }

  /** Starts everything; returns the exit code once stopped (or at once when start fails). */
  int run() {
    long t0 = System.nanoTime();
    Map<ServiceName, UmbraService> running;
    try {
      KeyFiles.ensurePrivateDirectory(home);
      Env devEnv = devEnvironment();
      // validate every service's config before starting anything
      Map<ServiceName, ServiceConfig> configs = new EnumMap<>(ServiceName.class);
      for (ServiceName s : ServiceName.values()) {
        configs.put(s, ServiceConfig.load(s, devEnv));
      }
      checkDistinctPorts(configs);
      PrometheusMeterRegistry registry = Metrics.newRegistry();
      // one cold JVM loading every service at once: warn about event-loop blocks only past 10 s
      vertx = Metrics.newVertx(registry, java.time.Duration.ofSeconds(10));
      ServiceConfig any = configs.get(ServiceName.CONTROL_PLANE);
      if (env.optional("UMBRA_REDIS_URL").isPresent()) {
        bus =
            RedisBus.create(
                vertx,
                any.redisUrl(),
                any.busPrefix(),
                dev.umbra.kit.bus.RedisLiveness.load(any.env()),
                registry);
        out.println("bus: Redis at " + RedisUrl.parse(any.redisUrl()).describe());
      } else {
        bus = new InProcessBus(vertx);
        out.println("bus: in-process (set UMBRA_REDIS_URL to use Redis)");
      }
      running = deployAll(registry, configs);
    } catch (ConfigException e) {
      err.println("umbra dev: configuration error: " + e.getMessage());
      stop();
      return 2;
    } catch (Exception e) {
      err.println("umbra dev: failed to start: " + rootMessage(e));
      stop();
      return 1;
    }
    String scheme = tls ? "https" : "http";
    for (ServiceName s : ServiceName.values()) {
      out.printf("  %-14s %s://127.0.0.1:%d%n", s.id(), scheme, running.get(s).actualPort());
    }
    String cpUrl = scheme + "://127.0.0.1:" + running.get(ServiceName.CONTROL_PLANE).actualPort();
    try {
      DevSetup setup = new DevSetup(home, cpUrl, out, err, cliEnv);
      out.println(setup.prepare(bootstrapToken));
      setup.startDaemon();
    } catch (RuntimeException e) {
      err.println("umbra dev: " + rootMessage(e));
      stop();
      return 1;
    }
    printWhatToTry();
    out.printf(
        "%s in %.1f s: control plane at %s, web app at %s%s (Ctrl-C stops everything)%n",
        READY, (System.nanoTime() - t0) / 1e9, cpUrl, cpUrl, WebApp.PREFIX);
    CountDownLatch stopped = new CountDownLatch(1);
    Signals.onTerminate(
        () -> {
          out.println("stopping...");
          stop();
          stopped.countDown();
        });
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  /**
   * The environment the services start with: the caller's, bound to localhost, with an embedded
   * PostgreSQL unless {@code UMBRA_PG_URL} names one, and the dev bootstrap token.
   */
  private Env devEnvironment() throws Exception {
    Map<String, String> overlay = new HashMap<>(env.asMap());
    overlay.putIfAbsent("UMBRA_BIND_HOST", "127.0.0.1");
    overlay.putIfAbsent("UMBRA_HOME", home.toString());
    if (env.optional("UMBRA_PG_URL").isEmpty()) {
      embeddedPg = EmbeddedPg.start(home);
      embeddedPg.ensureDatabase("umbra");
      out.println(embeddedPg.summary());
      overlay.put("UMBRA_PG_URL", embeddedPg.url("umbra").toString());
    }
    String bootstrapToken =
        env.optional("UMBRA_BOOTSTRAP_TOKEN").orElse(DevSetup.bootstrapToken(home));
    overlay.put("UMBRA_BOOTSTRAP_TOKEN", bootstrapToken);
    this.bootstrapToken = bootstrapToken;
    cliEnv = new HashMap<>(System.getenv());
    if (tls) {
      DevTls.TlsFiles files =
          DevTls.prepare(home, overlay.get("UMBRA_BIND_HOST"), Clock.systemUTC());
      files.serviceEnv().forEach(overlay::putIfAbsent);
      // one relay, so no mesh: its listener then asks browsers for no client certificate
      overlay.putIfAbsent("UMBRA_RELAY_MESH", "off");
      cliEnv.putIfAbsent("UMBRA_TLS_CA_FILE", files.caCert().toString());
      out.println(
          "TLS: every service over TLS 1.3 with the dev CA; for other shells: export"
              + " UMBRA_TLS_CA_FILE="
              + files.caCert());
    }
    return new Env(overlay);
  }

  private void printWhatToTry() {
    String u = command(System.getProperty("umbra.exec"), System.getenv("PATH"));
    out.println(
        "try:  " + u + " tty local          (a shell on this machine, end-to-end encrypted)");
    out.println("      " + u + " run local -- uname -a");
    out.println("      " + u + " forward local 15432:127.0.0.1:5432");
    out.println("      echo secret | " + u + " vault put greeting; " + u + " vault get greeting");
    out.println(
        "      " + u + " machines list    " + u + " audit query    " + u + " recordings list");
  }

  /**
   * How the user runs this command again: {@code bin/umbra} in a checkout (its script sets no
   * {@code umbra.exec}); from the distribution ({@code exec}, its {@code bin/umbra} or {@code
   * /usr/bin/umbra}) {@code umbra} when that name on {@code path} is this distribution, else its
   * path.
   */
  static String command(String exec, String path) {
    if (exec == null || exec.isBlank()) {
      return "bin/umbra";
    }
    for (String dir : path == null ? new String[0] : path.split(File.pathSeparator)) {
      try {
        Path onPath = Path.of(dir.isEmpty() ? "." : dir, "umbra");
        if (Files.isExecutable(onPath)) {
          return Files.isSameFile(onPath, Path.of(exec)) ? "umbra" : exec;
        }
      } catch (IOException | InvalidPathException e) {
        // an unreadable or odd PATH entry: not this one
      }
    }
    return exec;
  }

  private Map<ServiceName, UmbraService> deployAll(
      PrometheusMeterRegistry registry, Map<ServiceName, ServiceConfig> configs) throws Exception {
    Map<ServiceName, UmbraService> services = new EnumMap<>(ServiceName.class);
    List<Future<?>> deployed = new ArrayList<>();
    for (ServiceName s : ServiceName.values()) {
      UmbraService svc =
          Services.factory(s)
              .apply(new ServiceRuntime(configs.get(s), bus, registry, Clock.systemUTC()));
      services.put(s, svc);
      deployed.add(
          vertx
              .deployVerticle(svc)
              .recover(
                  e ->
                      Future.failedFuture(
                          new IllegalStateException(startFailure(configs.get(s), e), e))));
    }
    CompletableFuture<Object> all =
        Future.all(deployed).toCompletionStage().toCompletableFuture().thenApply(x -> x);
    try {
      all.get(120, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(rootMessage(e.getCause()), e.getCause());
    }
    return services;
  }

  private void stop() {
    try {
      if (vertx != null) {
        vertx.close().toCompletionStage().toCompletableFuture().get(8, TimeUnit.SECONDS);
      }
      if (bus != null) {
        bus.close();
      }
    } catch (Exception e) {
      err.println("umbra dev: services did not stop cleanly: " + rootMessage(e));
    }
    if (embeddedPg != null) {
      embeddedPg.close();
    }
  }

  /**
   * Refuses two services on one port: in one JVM Vert.x shares a listener between servers of the
   * same host and port, so both would start and split each other's requests (a CLI's login then
   * reached the engine: "route /v1/discovery not found").
   */
  static void checkDistinctPorts(Map<ServiceName, ServiceConfig> configs) {
    Map<Integer, ServiceConfig> byPort = new HashMap<>();
    for (ServiceConfig c : configs.values()) {
      ServiceConfig other = c.port() == 0 ? null : byPort.putIfAbsent(c.port(), c);
      if (other != null) {
        throw new ConfigException(
            c.service().envPrefix() + "PORT",
            c.port()
                + " is also "
                + other.service().envPrefix()
                + "PORT: each service of `umbra dev` needs its own port (two would share one"
                + " listener and split each other's requests); set one of them to a free port");
      }
    }
  }

  /**
   * Why {@code config}'s service did not start, in one line: a port in use names the port, its
   * variable and what to do (Netty says only "bind(..) failed with error(-98): Address already in
   * use").
   */
  static String startFailure(ServiceConfig config, Throwable e) {
    String why = rootMessage(e);
    if (why.contains("Address already in use")) {
      return config.service().id()
          + ": port "
          + config.port()
          + " on "
          + config.bindHost()
          + " is already in use (another `umbra dev`, or another program): stop it, or set "
          + config.service().envPrefix()
          + "PORT to a free port (docs/configuration.md)";
    }
    return config.service().id() + ": " + why;
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null
        && t.getCause() != t
        && (t.getMessage() == null || t instanceof java.util.concurrent.ExecutionException)) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
