package dev.umbra.cli;

import dev.umbra.audit.AuditService;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.tty.ChildEngine;
import dev.umbra.client.tty.TcpBalancer;
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
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The CLI's end-to-end tests' one harness: a control plane and the services a test asks for
 * (pairing, webtty-engine, relay, audit) on a fresh PostgreSQL database and Redis prefix, each
 * service on its own Redis connection as separate processes would be, and the real `umbra` command
 * tree run in process against them.
 */
public final class CliHarness implements AutoCloseable {
  private static final FileAttribute<?> PRIVATE_DIRECTORY =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

  public final Vertx vertx;
  public final TestPostgres pg;
  public final Bus bus;
  public final String prefix;

  /** A temporary directory for this harness: service home, CLI and machine homes. */
  public final Path tmp;

  public final String cpUrl;

  /** The services' shared internal credential (the {@code /internal} API's). */
  public final String internalToken;

  private final Map<ServiceName, UmbraService> services;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final Map<ServiceName, URI> urls;
  private final Path serviceHome;
  private final Map<String, String> env;
  private Process engineA;
  private Path engineALog;
  private TcpBalancer balancer;

  private CliHarness(
      Vertx vertx,
      TestPostgres pg,
      Bus bus,
      String prefix,
      Path tmp,
      String cpUrl,
      String internalToken,
      Map<ServiceName, UmbraService> services,
      Map<ServiceName, URI> urls,
      Map<String, String> env) {
    this.vertx = vertx;
    this.pg = pg;
    this.bus = bus;
    this.prefix = prefix;
    this.tmp = tmp;
    this.cpUrl = cpUrl;
    this.internalToken = internalToken;
    this.services = services;
    this.urls = urls;
    this.serviceHome = tmp.resolve("services");
    this.env = env;
  }

  /**
   * Starts {@code others} and then the control plane (bootstrapped with {@code bootstrapToken});
   * {@code name} tells this test's temporary directory and credentials apart.
   */
  public static CliHarness start(String name, String bootstrapToken, ServiceName... others)
      throws Exception {
    return start(name, bootstrapToken, false, Map.of(), others);
  }

  /** {@link #start} with {@code settings} in every service's environment too. */
  public static CliHarness start(
      String name, String bootstrapToken, Map<String, String> settings, ServiceName... others)
      throws Exception {
    return start(name, bootstrapToken, false, settings, others);
  }

  /**
   * {@link #start} with the webtty-engine as two instances behind a {@link TcpBalancer} (the engine
   * URL every client, daemon and the discovery document get): instance A in its own JVM, preferred
   * while it lives (see {@link #killEngineInstanceA()}), and instance B in this one, which takes
   * over the sessions A homed (docs/webtty.md "Engine failover").
   */
  public static CliHarness startWithEngineFailover(
      String name, String bootstrapToken, ServiceName... others) throws Exception {
    return start(name, bootstrapToken, true, Map.of(), others);
  }

  private static CliHarness start(
      String name,
      String bootstrapToken,
      boolean engineFailover,
      Map<String, String> settings,
      ServiceName... others)
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
    String internalToken = "internal-" + name + "-credential-0123456789abcdef";
    Map<String, String> env = new HashMap<>(settings);
    env.putAll(
        Map.of(
            "UMBRA_CONTROL_PLANE_PORT",
            String.valueOf(cpPort),
            "UMBRA_INTERNAL_TOKEN",
            internalToken,
            "UMBRA_BOOTSTRAP_TOKEN",
            bootstrapToken));
    Map<ServiceName, UmbraService> services = new EnumMap<>(ServiceName.class);
    Map<ServiceName, URI> started = new EnumMap<>(ServiceName.class);
    // pairing hands the services' URLs to a machine it pairs, so it starts after the engine and
    // relay
    List<ServiceName> order =
        Stream.of(
                ServiceName.WEBTTY_ENGINE,
                ServiceName.RELAY,
                ServiceName.AUDIT,
                ServiceName.PAIRING)
            .filter(List.of(others)::contains)
            .toList();
    for (ServiceName other : order) {
      UmbraService s =
          deploy(
              vertx,
              prefix,
              withUrls(TestServices.config(other, pg, prefix, serviceHome, env), started),
              factory(other));
      services.put(other, s);
      started.put(other, URI.create("http://127.0.0.1:" + s.actualPort()));
    }
    int portA = ChildEngine.freePort();
    TcpBalancer balancer = null;
    if (engineFailover && services.containsKey(ServiceName.WEBTTY_ENGINE)) {
      // A is not up yet: the balancer sends connections to B until it is
      balancer =
          TcpBalancer.start(vertx, portA, services.get(ServiceName.WEBTTY_ENGINE).actualPort());
      started.put(ServiceName.WEBTTY_ENGINE, balancer.url());
    }
    ServiceConfig cp =
        withUrls(
            TestServices.config(ServiceName.CONTROL_PLANE, pg, prefix, serviceHome, env), started);
    services.put(ServiceName.CONTROL_PLANE, deploy(vertx, prefix, cp, ControlPlaneService::new));
    Path engineALog = Path.of("target", name + "-engine-a.log");
    Process engineA =
        balancer == null
            ? null
            : ChildEngine.start(
                engineALog, pg, prefix, portA, serviceHome.resolve("engine-a"), env);
    CliHarness h =
        new CliHarness(
            vertx,
            pg,
            bus,
            prefix,
            tmp,
            "http://127.0.0.1:" + cpPort,
            internalToken,
            services,
            started,
            env);
    h.engineA = engineA;
    h.engineALog = engineALog;
    h.balancer = balancer;
    return h;
  }

  /**
   * SIGKILLs engine instance A of {@link #startWithEngineFailover} (no goodbye, nothing flushed)
   * and waits for it to be gone; new connections then reach instance B.
   */
  public void killEngineInstanceA() throws InterruptedException {
    engineA.destroyForcibly();
    engineA.waitFor(10, TimeUnit.SECONDS);
  }

  /** The output (its log lines) of engine instance A of {@link #startWithEngineFailover}. */
  public Path engineInstanceALog() {
    return engineALog;
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

  /** Deploys one service on its own Redis connection. */
  private static UmbraService deploy(
      Vertx vertx,
      String prefix,
      ServiceConfig config,
      Function<ServiceRuntime, ? extends UmbraService> factory)
      throws Exception {
    Bus bus = RedisBus.create(vertx, TestRedis.url(), prefix);
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

  /** A new directory {@code name} (mode 0700) in {@link #tmp}: a CLI's or a machine's home. */
  public Path home(String name) throws IOException {
    return Files.createDirectories(tmp.resolve(name), PRIVATE_DIRECTORY);
  }

  /**
   * Another CLI of {@code admin}'s account (a second laptop) in a new home {@code name}: the same
   * login (its credentials file), no device keys.
   */
  public Path secondCli(Path admin, String name) throws IOException {
    Path home = home(name);
    Files.createDirectories(home.resolve("cli"), PRIVATE_DIRECTORY);
    Files.copy(admin.resolve("cli/credentials.json"), home.resolve("cli/credentials.json"));
    return home;
  }

  /**
   * {@link #secondCli} trusted in {@code workspace} through the code flow: it asks, {@code admin}
   * approves with the code, it fetches its credential.
   */
  public Path trustedSecond(Path admin, String name, String workspace) throws IOException {
    Path home = secondCli(admin, name);
    UmbraRun request =
        ok(home, "device", "trust", "-w", workspace, "--wait", "0", "--json", "--name", name);
    approve(admin, request.json(), workspace);
    ok(home, "device", "trust", "-w", workspace, "--wait", "5");
    return home;
  }

  /** The id of {@code admin}'s workspace {@code name}, as `umbra workspace list` shows it. */
  public static UUID workspaceId(Path admin, String name) {
    return ok(admin, "workspace", "list", "--json").array().stream()
        .map(JsonObject.class::cast)
        .filter(j -> j.getString("name").equals(name))
        .map(j -> UUID.fromString(j.getString("id")))
        .findFirst()
        .orElseThrow();
  }

  /**
   * {@code admin} approves the pending device trust request {@code request} (as `umbra device trust
   * --wait 0 --json` printed it) of workspace {@code workspace}, with its verification code.
   */
  public static UmbraRun approve(Path admin, JsonObject request, String workspace) {
    return ok(
        admin,
        "devices",
        "approve",
        request.getString("id"),
        "--code",
        request.getString("verification_code"),
        "-w",
        workspace);
  }

  /**
   * Another instance of {@code name} (not the control plane), as a scaled-out or restarted service
   * would be: the same settings, its own port and Redis connection.
   */
  public UmbraService startInstance(ServiceName name) throws Exception {
    return deploy(
        vertx,
        prefix,
        withUrls(TestServices.config(name, pg, prefix, serviceHome, env), urls),
        factory(name));
  }

  /** A control plane API answer: its status and its JSON body (empty when it had none). */
  public record Response(int status, JsonObject body) {}

  /**
   * Calls the control plane API: {@code method} {@code path} with {@code body} as JSON (none when
   * null), {@code token} as bearer (none when null) and {@code headers}.
   */
  public Response cp(
      String method, String path, String token, JsonObject body, Map<String, String> headers) {
    try {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create(cpUrl + path))
              .timeout(Duration.ofSeconds(20))
              .method(
                  method,
                  body == null
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofString(body.encode()))
              .header("content-type", "application/json");
      if (token != null) {
        b.header("authorization", "Bearer " + token);
      }
      headers.forEach(b::header);
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      String text = r.body();
      return new Response(
          r.statusCode(), text == null || text.isBlank() ? new JsonObject() : new JsonObject(text));
    } catch (Exception e) {
      throw new IllegalStateException(method + " " + path, e);
    }
  }

  /** {@link #cp(String, String, String, JsonObject, Map)} without extra headers. */
  public Response cp(String method, String path, String token, JsonObject body) {
    return cp(method, path, token, body, Map.of());
  }

  /** A service this harness started. */
  public <S extends UmbraService> S service(ServiceName name, Class<S> type) {
    return type.cast(services.get(name));
  }

  /**
   * Runs the `umbra` command tree of bin/umbra (the launcher adds `umbra daemon`) with {@code home}
   * as UMBRA_HOME.
   */
  public static UmbraRun umbra(Path home, String... args) {
    return UmbraRun.of(home, Map.of("USER", "alice"), Cli.commands(), args);
  }

  /** {@link #umbra} that must succeed. */
  public static UmbraRun ok(Path home, String... args) {
    return umbra(home, args).assertOk(args);
  }

  /**
   * Pairs {@code machine} as "local" into the workspace "dev" of {@code admin} through `umbra pair
   * create` and `umbra daemon pair`; returns the machine's binding store.
   */
  public BindingStore pairMachine(Path admin, Path machine) {
    return pairMachine(admin, machine, "local");
  }

  /** Pairs the machine home {@code machine} as {@code name}, with a code {@code admin} made. */
  public BindingStore pairMachine(Path admin, Path machine, String name) {
    String pairing =
        ok(admin, "pair", "create", "--json", "--workspace", "dev").json().getString("code");
    ok(machine, "daemon", "pair", pairing, "--url", cpUrl, "--name", name);
    return new BindingStore(machine);
  }

  /**
   * The CLI home {@code admin} (in {@link #tmp}) logged in with the bootstrap token as the owner of
   * workspace "dev" and trusted as its first device (which makes the keyset).
   */
  public Path trustedOwner() {
    Path admin = tmp.resolve("admin");
    String bootstrap = env.get("UMBRA_BOOTSTRAP_TOKEN");
    ok(admin, "login", cpUrl, "--bootstrap-token", bootstrap, "--workspace", "dev");
    ok(admin, "device", "trust", "-w", "dev");
    return admin;
  }

  /**
   * The machine home {@code machine} (in {@link #tmp}) paired by {@code admin} ({@link
   * #pairMachine}) with the agent {@code name} enrolled there and approved by {@code admin} with
   * its verification code.
   */
  public Path machineWithAgent(Path admin, String name) {
    Path machine = tmp.resolve("machine");
    pairMachine(admin, machine);
    approveAgent(admin, name, enrolAgent(machine, name));
    return machine;
  }

  /** Enrols the agent {@code name} on {@code machine}: what `umbra agent enroll --json` prints. */
  public static JsonObject enrolAgent(Path machine, String name) {
    return ok(machine, "agent", "enroll", name, "--json").json();
  }

  /** {@code admin} approves the agent {@code name} with the code of its {@code enrolment}. */
  public static void approveAgent(Path admin, String name, JsonObject enrolment) {
    ok(admin, "agents", "approve", name, "--code", enrolment.getString("verification_code"));
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

  /**
   * The daemon's relay channels (run, forward, agent sessions) for every binding of {@code store},
   * started the way `umbra daemon run` starts them, with {@code machine} as UMBRA_HOME.
   */
  public static dev.umbra.daemon.channel.DaemonRelay startDaemonRelay(
      Path machine, BindingStore store) {
    DaemonRunner runner =
        new DaemonRunner(
            new JsonHttp(), store, Clock.systemUTC(), new PrintStream(new ByteArrayOutputStream()));
    return dev.umbra.daemon.channel.DaemonRelay.start(
        new JsonHttp(),
        store,
        machine,
        (b, audience) -> runner.session(b, audience).getString("token"),
        null,
        new PrintStream(new ByteArrayOutputStream()));
  }

  /** Every log line of this JVM from now on, until {@link #stopRecordingLogs}. */
  public static ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>
      recordLogs() {
    var logs =
        new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
    logs.start();
    ((ch.qos.logback.classic.Logger)
            org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
        .addAppender(logs);
    return logs;
  }

  public static void stopRecordingLogs(
      ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logs) {
    ((ch.qos.logback.classic.Logger)
            org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
        .detachAppender(logs);
  }

  @Override
  public void close() throws Exception {
    if (engineA != null) {
      engineA.destroyForcibly();
    }
    if (balancer != null) {
      balancer.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    pg.close();
  }
}
