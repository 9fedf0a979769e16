package dev.umbra.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.Eventually;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Assumptions;

/**
 * The production shape of deploy/local-cluster.sh for the chaos suite: two instances of every
 * service, each its own JVM (the services' {@code Main}s on this test's class path, which holds the
 * launcher's jars), against the suite's own PostgreSQL and Redis, behind HAProxy from Debian (one
 * frontend per service, round robin over both instances, layer-4 health checks every 300 ms, a
 * failed connect retried on the other instance). Every service's public URL is its HAProxy
 * frontend, as behind a load balancer in production.
 */
final class ChaosCluster implements AutoCloseable {
  static final Path HAPROXY = Path.of("/usr/sbin/haproxy");
  static final int INSTANCES = 2;
  static final String BOOTSTRAP = "bootstrap-token-for-the-chaos-suite-0123456789";

  /** The five services in local-cluster.sh's order, with their Main and env prefix. */
  enum Svc {
    CONTROL_PLANE("control-plane", "dev.umbra.controlplane.Main", "CONTROL_PLANE"),
    PAIRING("pairing", "dev.umbra.pairing.Main", "PAIRING"),
    RELAY("relay", "dev.umbra.relay.Main", "RELAY"),
    AUDIT("audit", "dev.umbra.audit.Main", "AUDIT"),
    WEBTTY_ENGINE("webtty-engine", "dev.umbra.webtty.Main", "WEBTTY_ENGINE");

    final String id;
    final String main;
    final String env;

    Svc(String id, String main, String env) {
      this.id = id;
      this.main = main;
      this.env = env;
    }

    /** Whether its /healthz checks PostgreSQL (the relay uses none). */
    boolean usesPostgres() {
      return this != RELAY;
    }
  }

  /** One instance: its port and, while it runs, its process. */
  record Instance(Svc svc, int n, int port) {
    String name() {
      return svc.id + "-" + n;
    }
  }

  /**
   * What a test changes in the deployment: settings of single instances (e.g. a Redis URL that goes
   * through a proxy the test can partition), whether HAProxy checks {@code /healthz} (an instance
   * answering 503 is taken out of rotation) instead of only connecting, and the directory under
   * target/ for the logs.
   */
  record Shape(
      BiFunction<ChaosCluster, Instance, Map<String, String>> settings,
      boolean httpChecks,
      String logs) {
    static final Shape PLAIN = new Shape((c, i) -> Map.of(), false, "chaos");
  }

  final Path dir;
  final OwnPostgres pg;
  final OwnRedis redis;
  private final Shape shape;
  private final Map<Svc, Integer> frontends = new LinkedHashMap<>();
  private final Map<Svc, List<Instance>> instances = new LinkedHashMap<>();
  private final Map<Instance, Process> running = new ConcurrentHashMap<>();
  private final Map<String, String> env = new HashMap<>();
  private Process haproxy;

  private ChaosCluster(Path dir, OwnPostgres pg, OwnRedis redis, Shape shape) {
    this.dir = dir;
    this.pg = pg;
    this.redis = redis;
    this.shape = shape;
  }

  /**
   * Skips the calling test class, loudly, when HAProxy, PostgreSQL 15's binaries or redis-server
   * are missing ({@code what} names it in the message).
   */
  static void assumeAvailable(String what) {
    String missing = missing();
    if (missing != null) {
      System.err.println("\n*** " + what + " SKIPPED: missing " + missing + " ***\n");
    }
    Assumptions.assumeTrue(missing == null, what + " needs " + missing);
  }

  /** What is missing on this machine for the suite, or null when everything is there. */
  static String missing() {
    if (!Files.isExecutable(HAPROXY)) {
      return HAPROXY + " (apt-get install haproxy)";
    }
    if (!OwnPostgres.available()) {
      return OwnPostgres.BIN + "/{initdb,pg_ctl} (apt-get install postgresql-15)";
    }
    if (!Files.isExecutable(Path.of("/usr/bin/redis-server"))) {
      return "/usr/bin/redis-server (apt-get install redis-server)";
    }
    return null;
  }

  /**
   * Starts PostgreSQL, Redis, HAProxy and the ten service processes; returns once the first control
   * plane is healthy (the others are still starting: {@link #awaitAllHealthy}).
   */
  static ChaosCluster start() throws Exception {
    return start(Shape.PLAIN);
  }

  /** {@link #start()} in the given {@code shape}. */
  static ChaosCluster start(Shape shape) throws Exception {
    Path dir = Path.of("target", shape.logs());
    if (Files.isDirectory(dir)) {
      new ProcessBuilder("rm", "-rf", dir.toString()).start().waitFor(30, TimeUnit.SECONDS);
    }
    Files.createDirectories(dir); // outside UMBRA_HOME: logs and the HAProxy config
    OwnPostgres pg = OwnPostgres.start();
    OwnRedis redis = OwnRedis.start();
    ChaosCluster c = new ChaosCluster(dir.toAbsolutePath(), pg, redis, shape);
    try {
      c.layout();
      c.startHaproxy();
      // the first control plane alone: it creates the request role the others then find
      c.startAll(List.of(c.instance(Svc.CONTROL_PLANE, 0)));
      c.awaitInRotation(Svc.CONTROL_PLANE);
      List<Instance> rest = new ArrayList<>();
      c.instances.values().forEach(rest::addAll);
      rest.remove(c.instance(Svc.CONTROL_PLANE, 0));
      for (Instance i : rest) {
        c.restart(i); // the caller waits (awaitAllHealthy) after what needs the control plane only
      }
      return c;
    } catch (Exception | AssertionError e) {
      c.close();
      throw e;
    }
  }

  private void layout() {
    env.put("UMBRA_PG_URL", pg.url().toString());
    env.put("UMBRA_REDIS_URL", redis.url().toString());
    env.put("UMBRA_BIND_HOST", "127.0.0.1");
    env.put("UMBRA_INTERNAL_TOKEN", "internal-chaos-suite-credential-0123456789abcdef");
    env.put("UMBRA_BOOTSTRAP_TOKEN", BOOTSTRAP);
    // a killed audit instance's unacknowledged entries are taken over after 5 s, not 30
    env.put("UMBRA_AUDIT_CLAIM_IDLE_MS", "5000");
    for (Svc s : Svc.values()) {
      int front = Ports.free();
      frontends.put(s, front);
      env.put("UMBRA_" + s.env + "_URL", "http://127.0.0.1:" + front);
      List<Instance> list = new ArrayList<>();
      for (int n = 0; n < INSTANCES; n++) {
        list.add(new Instance(s, n, Ports.free()));
      }
      instances.put(s, list);
    }
  }

  URI url(Svc s) {
    return URI.create("http://127.0.0.1:" + frontends.get(s));
  }

  Instance instance(Svc s, int n) {
    return instances.get(s).get(n);
  }

  List<Instance> instances(Svc s) {
    return instances.get(s);
  }

  List<Instance> all() {
    List<Instance> all = new ArrayList<>();
    instances.values().forEach(all::addAll);
    return all;
  }

  private void startHaproxy() throws Exception {
    StringBuilder cfg =
        new StringBuilder(
            String.join(
                "\n",
                "global",
                "  maxconn 4000",
                // the runtime API: a test takes an engine instance out of new connections' way
                "  stats socket " + dir.resolve("haproxy.sock") + " mode 600 level admin",
                // every request and health check change in haproxy.log: which instance a failed
                // request went to, and how long it waited there
                "  log stdout format raw local0",
                "defaults",
                "  log global",
                // the path without its query: nothing a client sent beyond the route is kept
                "  log-format \"%tr %b/%s %HM %HP %ST %TR/%Tw/%Tc/%Tr/%Ta %tsc\"",
                "  mode http",
                "  timeout connect 2s",
                "  timeout client 120s",
                "  timeout server 120s",
                "  timeout tunnel 1h",
                "  timeout http-keep-alive 5s",
                "  retries 3",
                "  option redispatch 1",
                "  retry-on conn-failure",
                ""));
    for (Svc s : Svc.values()) {
      cfg.append("listen ").append(s.id).append('\n');
      cfg.append("  bind 127.0.0.1:").append(frontends.get(s)).append('\n');
      // the engine by source address: the daemon and the terminal (one address here) share an
      // instance, the failover the engine supports; split over two, an instance's death stops the
      // terminal (docs/webtty.md "An edge instance's death", docs/chaos.md)
      cfg.append(s == Svc.WEBTTY_ENGINE ? "  balance source\n" : "  balance roundrobin\n");
      if (shape.httpChecks()) {
        cfg.append("  option httpchk GET /healthz\n  http-check expect status 200\n");
        cfg.append("  timeout check 3s\n");
      }
      for (Instance i : instances.get(s)) {
        cfg.append("  server ")
            .append(i.name())
            .append(" 127.0.0.1:")
            .append(i.port())
            .append(
                // /healthz of a starved JVM can take seconds: three failures in a row take an
                // instance out, not one slow answer
                shape.httpChecks()
                    ? " check inter 1s fall 3 rise 2\n"
                    : " check inter 300ms fall 1 rise 1\n");
      }
    }
    Path conf = Files.writeString(dir.resolve("haproxy.cfg"), cfg);
    haproxy =
        new ProcessBuilder(HAPROXY.toString(), "-db", "-f", conf.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("haproxy.log").toFile())
            .start();
    Eventually.await(
        "HAProxy listens",
        Duration.ofSeconds(20),
        () -> {
          assertThat(haproxy.isAlive()).as("haproxy exited; see " + dir + "/haproxy.log").isTrue();
          return status(url(Svc.CONTROL_PLANE).getPort()) != -1;
        });
  }

  /**
   * Sets {@code i}'s state in HAProxy ({@code drain}: no new connections, the open ones stay;
   * {@code ready}) through the runtime API, so a test can place a new connection on the other
   * instance deterministically, whatever the balancing says.
   */
  void balancer(Instance i, String state) throws IOException {
    String said = haproxy("set server " + i.svc().id + "/" + i.name() + " state " + state);
    assertThat(said).as("HAProxy's answer to setting " + i.name() + " " + state).isEmpty();
  }

  /** Waits until HAProxy's own check counts {@code i} up (it may lag the instance's /healthz). */
  void awaitUpInBalancer(Instance i) {
    String row = i.svc().id + "," + i.name() + ",";
    Eventually.await(
        i.name() + " up in HAProxy",
        Duration.ofSeconds(30),
        () ->
            haproxy("show stat")
                .lines()
                .anyMatch(l -> l.startsWith(row) && l.split(",", -1)[17].equals("UP")));
  }

  /** One command to HAProxy's runtime API (its stats socket); its answer, stripped. */
  String haproxy(String command) throws IOException {
    try (SocketChannel ch =
        SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("haproxy.sock")))) {
      ch.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8)));
      java.io.ByteArrayOutputStream answer = new java.io.ByteArrayOutputStream();
      ByteBuffer buf = ByteBuffer.allocate(8192);
      while (ch.read(buf) >= 0) { // the runtime API answers and closes
        answer.write(buf.array(), 0, buf.position());
        buf.clear();
      }
      return answer.toString(StandardCharsets.UTF_8).strip();
    }
  }

  /** Starts the instances (in parallel) and waits until each answers /healthz 200. */
  void startAll(List<Instance> list) throws Exception {
    for (Instance i : list) {
      running.put(i, process(i).start());
    }
    for (Instance i : list) {
      awaitHealthy(i, Duration.ofSeconds(150));
    }
  }

  void awaitHealthy(Instance i, Duration within) {
    Eventually.await(
        i.name() + " healthy (see " + log(i) + ")",
        within,
        () -> {
          Process p = running.get(i);
          assertThat(p != null && p.isAlive()).as(i.name() + " exited; see " + log(i)).isTrue();
          return status(i.port()) == 200;
        });
  }

  /** Waits until HAProxy passes {@code svc}'s /healthz on to an instance that answers 200. */
  void awaitInRotation(Svc svc) {
    Eventually.await(
        svc.id + " in HAProxy's rotation",
        Duration.ofSeconds(60),
        () -> status(frontends.get(svc)) == 200);
  }

  /** Waits until every instance answers /healthz 200 (a restarted one may take a while). */
  void awaitAllHealthy() {
    for (Instance i : all()) {
      awaitHealthy(i, Duration.ofSeconds(120));
    }
    if (shape.httpChecks()) {
      frontends.keySet().forEach(this::awaitInRotation);
    }
    // every instance, not one per service: a client connecting while HAProxy still counts an
    // instance down lands on the other, and a test that needs its clients split loses the split
    all().forEach(this::awaitUpInBalancer);
  }

  /** SIGKILL: no drain, no goodbye. */
  void kill(Instance i) throws InterruptedException {
    Process p = running.remove(i);
    p.destroyForcibly();
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
  }

  /** Starts a killed instance again on its port, as an orchestrator would; does not wait. */
  void restart(Instance i) throws IOException {
    running.put(i, process(i).start());
  }

  Path log(Instance i) {
    return dir.resolve(i.name() + ".log");
  }

  private ProcessBuilder process(Instance i) {
    ProcessBuilder pb =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                i.svc().main)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log(i).toFile()));
    Map<String, String> e = pb.environment();
    e.keySet().removeIf(k -> k.startsWith("UMBRA_"));
    e.putAll(env);
    e.put("UMBRA_" + i.svc().env + "_PORT", Integer.toString(i.port()));
    e.put("UMBRA_HOME", dir.resolve("home").resolve(i.name()).toString());
    e.putAll(shape.settings().apply(this, i));
    return pb;
  }

  /** The status of GET /healthz on {@code port}, -1 when nothing answers within 3 s. */
  static int status(int port) {
    try {
      HttpURLConnection c =
          (HttpURLConnection)
              URI.create("http://127.0.0.1:" + port + "/healthz").toURL().openConnection();
      c.setConnectTimeout(1000);
      c.setReadTimeout(3000);
      return c.getResponseCode();
    } catch (IOException e) {
      return -1;
    }
  }

  /** The sum of the samples of {@code name} on {@code port}'s /metrics; 0 when unreachable. */
  static double metric(int port, String name) {
    try {
      HttpURLConnection c =
          (HttpURLConnection)
              URI.create("http://127.0.0.1:" + port + "/metrics").toURL().openConnection();
      c.setConnectTimeout(1000);
      c.setReadTimeout(3000);
      String text = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return text.lines()
          .filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
          .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
          .sum();
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
  }

  @Override
  public void close() throws Exception {
    for (Process p : running.values()) {
      p.destroyForcibly();
    }
    for (Process p : running.values()) {
      p.waitFor(20, TimeUnit.SECONDS);
    }
    running.clear();
    if (haproxy != null) {
      haproxy.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    redis.close();
    pg.close();
  }
}
