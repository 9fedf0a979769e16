package dev.umbra.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.audit.AuditService;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.controlplane.ControlPlaneService;
import dev.umbra.daemon.run.DaemonRunner;
import dev.umbra.daemon.tty.TtyDaemon;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.kit.service.UmbraService;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestServices;
import dev.umbra.launcher.Cli;
import dev.umbra.pairing.PairingService;
import dev.umbra.relay.RelayService;
import dev.umbra.webtty.WebTtyService;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The CLI's end-to-end tests' one harness: a control plane and the services a test asks for
 * (pairing, webtty-engine, relay) on a fresh PostgreSQL database and Redis prefix, and the real
 * `umbra` command tree run in process against them.
 */
public final class CliHarness implements AutoCloseable {
  /** What one `umbra` invocation printed and returned. */
  public record Run(int code, String out, String err) {
    public JsonObject json() {
      return new JsonObject(out);
    }

    public JsonArray array() {
      return new JsonArray(out);
    }
  }

  public final Vertx vertx;
  public final TestPostgres pg;
  public final Bus bus;
  public final String prefix;

  /** A temporary directory for this harness: service home, CLI and machine homes. */
  public final Path tmp;

  public final String cpUrl;
  private final Map<ServiceName, UmbraService> services;

  private CliHarness(
      Vertx vertx,
      TestPostgres pg,
      Bus bus,
      String prefix,
      Path tmp,
      String cpUrl,
      Map<ServiceName, UmbraService> services) {
    this.vertx = vertx;
    this.pg = pg;
    this.bus = bus;
    this.prefix = prefix;
    this.tmp = tmp;
    this.cpUrl = cpUrl;
    this.services = services;
  }

  /**
   * Starts {@code others} and then the control plane (bootstrapped with {@code bootstrapToken});
   * {@code name} tells this test's temporary directory and credentials apart.
   */
  public static CliHarness start(String name, String bootstrapToken, ServiceName... others)
      throws Exception {
    Vertx vertx = Vertx.vertx();
    TestPostgres pg = TestPostgres.createDatabase();
    String prefix = TestRedis.randomPrefix();
    Bus bus = RedisBus.create(vertx, TestRedis.url(), prefix);
    Path tmp = Files.createTempDirectory("umbra-" + name);
    Path serviceHome = tmp.resolve("services");
    // The one port known before start: the control plane and the other services name each other
    // (its discovery document lists their URLs; they fetch its key set), so one side of that cycle
    // must be fixed first. The others bind port 0 and the control plane is told their actual ports.
    int cpPort = reservedPort();
    Map<String, String> env =
        Map.of(
            "UMBRA_CONTROL_PLANE_PORT",
            String.valueOf(cpPort),
            "UMBRA_INTERNAL_TOKEN",
            "internal-" + name + "-credential-0123456789abcdef",
            "UMBRA_BOOTSTRAP_TOKEN",
            bootstrapToken);
    Map<ServiceName, UmbraService> services = new EnumMap<>(ServiceName.class);
    Map<ServiceName, URI> started = new EnumMap<>(ServiceName.class);
    // pairing hands the services' URLs to a machine it pairs, so it starts after the engine and
    // relay
    List<ServiceName> order =
        Stream.of(
                ServiceName.AUDIT,
                ServiceName.WEBTTY_ENGINE,
                ServiceName.RELAY,
                ServiceName.PAIRING)
            .filter(List.of(others)::contains)
            .toList();
    for (ServiceName other : order) {
      UmbraService s =
          deploy(
              vertx,
              bus,
              withUrls(TestServices.config(other, pg, prefix, serviceHome, env), started),
              factory(other));
      services.put(other, s);
      started.put(other, URI.create("http://127.0.0.1:" + s.actualPort()));
    }
    ServiceConfig cp =
        withUrls(
            TestServices.config(ServiceName.CONTROL_PLANE, pg, prefix, serviceHome, env), started);
    services.put(ServiceName.CONTROL_PLANE, deploy(vertx, bus, cp, ControlPlaneService::new));
    return new CliHarness(vertx, pg, bus, prefix, tmp, "http://127.0.0.1:" + cpPort, services);
  }

  private static ServiceConfig withUrls(ServiceConfig config, Map<ServiceName, URI> urls) {
    for (Map.Entry<ServiceName, URI> u : urls.entrySet()) {
      config = config.withPublicUrl(u.getKey(), u.getValue());
    }
    return config;
  }

  private static Function<ServiceRuntime, UmbraService> factory(ServiceName name) {
    return switch (name) {
      case PAIRING -> PairingService::new;
      case WEBTTY_ENGINE -> WebTtyService::new;
      case RELAY -> RelayService::new;
      case AUDIT -> AuditService::new;
      default -> throw new IllegalArgumentException("the CLI harness does not start " + name);
    };
  }

  private static UmbraService deploy(
      Vertx vertx,
      Bus bus,
      ServiceConfig config,
      Function<ServiceRuntime, ? extends UmbraService> factory)
      throws Exception {
    return TestServices.deploy(
            vertx, config, bus, Metrics.newRegistry(), Clock.systemUTC(), factory::apply)
        .toCompletionStage()
        .toCompletableFuture()
        .get(60, TimeUnit.SECONDS);
  }

  /** A port free a moment ago (reserve, close, reuse: another process may take it in between). */
  private static int reservedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** A service this harness started. */
  public <S extends UmbraService> S service(ServiceName name, Class<S> type) {
    return type.cast(services.get(name));
  }

  /**
   * Runs the `umbra` command tree of bin/umbra (the launcher adds `umbra daemon`) with {@code home}
   * as UMBRA_HOME.
   */
  public static Run umbra(Path home, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        UmbraCli.execute(
            home,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            Map.of("USER", "alice"),
            Cli.commands(),
            args);
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** {@link #umbra} that must succeed. */
  public static Run ok(Path home, String... args) {
    Run r = umbra(home, args);
    assertThat(r.code()).as(String.join(" ", args) + ": " + r.err() + r.out()).isZero();
    return r;
  }

  /**
   * Pairs {@code machine} as "local" into the workspace "dev" of {@code admin} through `umbra pair
   * create` and `umbra daemon pair`; returns the machine's binding store.
   */
  public BindingStore pairMachine(Path admin, Path machine) {
    String pairing =
        ok(admin, "pair", "create", "--json", "--workspace", "dev").json().getString("code");
    ok(machine, "daemon", "pair", pairing, "--url", cpUrl, "--name", "local");
    return new BindingStore(machine);
  }

  /**
   * The daemon's WebTTY server for the first binding, started the way `umbra daemon run` starts it,
   * with /bin/sh and the policy the control plane signs (none of this JVM's UMBRA_TTY_* settings).
   */
  public static TtyDaemon startTtyDaemon(Path machine, BindingStore store) throws Exception {
    DaemonRunner runner =
        new DaemonRunner(
            new JsonHttp(), store, Clock.systemUTC(), new PrintStream(new ByteArrayOutputStream()));
    Map<String, String> daemonEnv = new HashMap<>(System.getenv());
    daemonEnv.put("UMBRA_TTY_SHELL", "/bin/sh");
    daemonEnv.remove("UMBRA_TTY_RECORDING");
    daemonEnv.remove("UMBRA_TTY_JOIN");
    daemonEnv.remove("UMBRA_TTY_RECORD_STDIN");
    TtyDaemon daemon = TtyDaemon.start(machine, store, new JsonHttp(), runner::session, daemonEnv);
    daemon
        .servers()
        .get(0)
        .start()
        .toCompletionStage()
        .toCompletableFuture()
        .get(20, TimeUnit.SECONDS);
    return daemon;
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    pg.close();
  }
}
