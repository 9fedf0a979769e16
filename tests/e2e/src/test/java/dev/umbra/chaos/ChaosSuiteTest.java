package dev.umbra.chaos;

import static dev.umbra.cli.CliHarness.ok;
import static dev.umbra.cli.CliHarness.umbra;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.chaos.ChaosCluster.Instance;
import dev.umbra.chaos.ChaosCluster.Svc;
import dev.umbra.cli.CliHarness;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.daemon.channel.DaemonRelay;
import dev.umbra.daemon.tty.AuthorizedKeys;
import dev.umbra.daemon.tty.TtyDaemon;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The chaos suite (issue 20, docs/chaos.md): two instances of every service as separate processes
 * behind HAProxy, on the suite's own PostgreSQL and Redis. While `umbra forward` moves bytes, a
 * terminal (`umbra tty`) is typed into, the owner sends messages to an agent and those sends emit
 * audit events, one fault at a time: kill -9 of one instance of each service, a Redis restart, a 10
 * s SIGSTOP of Redis, a PostgreSQL restart. After each: the forward's bytes are intact (SHA-256 at
 * both ends), the terminal runs what was typed during the fault and after it, every message arrived
 * exactly once and has exactly one audit event in a chain that verifies, {@code /healthz} said 503
 * while a dependency was down and says 200 again, and nothing was done by hand but starting a
 * killed process again (what an orchestrator does).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ChaosSuiteTest {
  static final Duration RECOVERY = Duration.ofSeconds(60);
  ChaosCluster cluster;
  Path tmp;
  Path admin;
  Path machine;
  DaemonRelay relay;
  TtyDaemon tty;
  ForwardStream.Sink sink;
  CliProcess forward;
  CliProcess terminal;
  int forwardPort;
  String agentAccount;
  final List<String> outcomes = new CopyOnWriteArrayList<>();
  long started;
  int faults;

  @BeforeAll
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void start() throws Exception {
    String missing = ChaosCluster.missing();
    if (missing != null) {
      System.err.println("\n*** CHAOS SUITE SKIPPED: missing " + missing + " ***\n");
    }
    Assumptions.assumeTrue(missing == null, "chaos suite needs " + missing);
    started = System.nanoTime();
    cluster = ChaosCluster.start();
    long up = System.nanoTime();
    tmp = Files.createTempDirectory("umbra-chaos"); // outside UMBRA_HOME
    admin = home("admin");
    machine = home("machine");
    String cp = cluster.url(Svc.CONTROL_PLANE).toString();
    ok(admin, "login", cp, "--bootstrap-token", ChaosCluster.BOOTSTRAP, "--workspace", "dev");
    ok(admin, "device", "trust", "-w", "dev");
    cluster.awaitAllHealthy();
    String code =
        ok(admin, "pair", "create", "--json", "--workspace", "dev").json().getString("code");
    ok(machine, "daemon", "pair", code, "--url", cp, "--name", "local");
    BindingStore store = new BindingStore(machine);
    String signing =
        ok(admin, "tty", "key")
            .out()
            .lines()
            .filter(l -> l.startsWith("signing"))
            .findFirst()
            .orElseThrow()
            .replaceAll(".*: ", "");
    new AuthorizedKeys(store.root().resolve(store.list().get(0).machineId().toString()))
        .add(Ed25519PublicKey.fromHex(signing), "admin cli");
    JsonObject enrolled = ok(machine, "agent", "enroll", "bot", "--json").json();
    ok(admin, "agents", "approve", "bot", "--code", enrolled.getString("verification_code"));
    ok(machine, "agent", "recv"); // publishes the agent's prekeys
    relay = CliHarness.startDaemonRelay(machine, store);
    tty = CliHarness.startTtyDaemon(machine, store);

    sink = new ForwardStream.Sink();
    forwardPort = Ports.free();
    forward =
        CliProcess.start(
            admin,
            cluster.dir.resolve("forward.log"),
            "forward",
            "local",
            forwardPort + ":127.0.0.1:" + sink.port());
    terminal = CliProcess.start(admin, cluster.dir.resolve("tty.log"), "tty", "local");
    forward.await("the forward listens", "forwarding 127.0.0.1:" + forwardPort, RECOVERY);
    terminal.await("the terminal opens", "[umbra] session", RECOVERY);
    terminal.type("echo ready-$((20+1))\n");
    terminal.await("the shell answers", "ready-21", RECOVERY);
    System.out.printf(
        "chaos: cluster up in %d ms, clients ready %d ms later%n",
        (up - started) / 1_000_000, (System.nanoTime() - up) / 1_000_000);
  }

  @AfterAll
  void stop() throws Exception {
    outcomes.forEach(o -> System.out.println("chaos outcome: " + o));
    if (started != 0) {
      System.out.printf(
          "chaos: suite wall time %d s%n", (System.nanoTime() - started) / 1_000_000_000);
    }
    for (AutoCloseable c : new AutoCloseable[] {forward, terminal, sink}) {
      if (c != null) {
        c.close();
      }
    }
    if (tty != null) {
      tty.close();
    }
    if (relay != null) {
      relay.close();
    }
    if (cluster != null) {
      cluster.close();
    }
    if (tmp != null) {
      new ProcessBuilder("rm", "-rf", tmp.toString()).start().waitFor(30, TimeUnit.SECONDS);
    }
  }

  private Path home(String name) throws Exception {
    return Files.createDirectories(
        tmp.resolve(name),
        java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
            java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
  }

  /** What one fault does: break something, then undo it as an operator or orchestrator would. */
  interface Fault {
    void inject() throws Exception;

    /** Instances whose /healthz must say 503 while the fault lasts (none for a kill). */
    default List<Instance> downWhileBroken() {
      return List.of();
    }

    void recover() throws Exception;

    /** Whether the fault's checks wait until every instance is healthy again. */
    default boolean waitForRecovery() {
      return true;
    }
  }

  @Test
  @Order(1)
  void killingAControlPlaneInstanceLosesNothing() throws Exception {
    kill(Svc.CONTROL_PLANE, 0);
  }

  @Test
  @Order(2)
  void killingAPairingInstanceLosesNothing() throws Exception {
    kill(Svc.PAIRING, 0);
  }

  @Test
  @Order(3)
  void killingTheRelayInstanceThatCarriesTheForwardLosesNothing() throws Exception {
    kill(Svc.RELAY, busiest(Svc.RELAY, "umbra_relay_connections"));
  }

  @Test
  @Order(4)
  void killingAnAuditInstanceLosesNothing() throws Exception {
    kill(Svc.AUDIT, 0);
  }

  @Test
  @Order(5)
  void killingTheEngineInstanceThatHoldsTheTerminalLosesNothing() throws Exception {
    // the daemon and the terminal share one instance (balanced by source address): the home dies
    // with the terminal's connection, and both fail over to the other
    kill(Svc.WEBTTY_ENGINE, busiest(Svc.WEBTTY_ENGINE, "umbra_webtty_engine_sessions_live"));
  }

  @Test
  @Order(6)
  void restartingRedisLosesNothing() throws Exception {
    run(
        "Redis restart",
        new Fault() {
          @Override
          public void inject() throws Exception {
            cluster.redis.stopServer();
          }

          @Override
          public List<Instance> downWhileBroken() {
            return cluster.all();
          }

          @Override
          public void recover() throws Exception {
            cluster.redis.startServer();
          }
        });
  }

  @Test
  @Order(7)
  void pausingRedisForTenSecondsLosesNothing() throws Exception {
    run(
        "Redis SIGSTOP 10 s",
        new Fault() {
          long stopped;

          @Override
          public void inject() throws Exception {
            cluster.redis.signal("STOP");
            stopped = System.nanoTime();
          }

          @Override
          public List<Instance> downWhileBroken() {
            return cluster.all();
          }

          @Override
          public void recover() throws Exception {
            // the pause itself is the fault: 10 s from SIGSTOP, however long the checks took
            long left = stopped + 10_000_000_000L - System.nanoTime();
            if (left > 0) {
              TimeUnit.NANOSECONDS.sleep(left);
            }
            cluster.redis.signal("CONT");
          }
        });
  }

  @Test
  @Order(8)
  void restartingPostgresLosesNothing() throws Exception {
    run(
        "PostgreSQL restart",
        new Fault() {
          @Override
          public void inject() throws Exception {
            cluster.pg.stopServer();
          }

          @Override
          public List<Instance> downWhileBroken() {
            return cluster.all().stream().filter(i -> i.svc().usesPostgres()).toList();
          }

          @Override
          public void recover() throws Exception {
            cluster.pg.startServer();
          }
        });
  }

  @Test
  @Order(10)
  void everyKilledInstanceIsHealthyAgainWithNothingDoneByHand() {
    long t0 = System.nanoTime();
    cluster.awaitAllHealthy();
    outcomes.add(
        "every instance healthy at the end (waited "
            + (System.nanoTime() - t0) / 1_000_000
            + " ms)");
  }

  /** The instance of {@code svc} with the most of gauge {@code metric} (0 when none has any). */
  private int busiest(Svc svc, String metric) {
    int best = 0;
    double most = -1;
    for (Instance i : cluster.instances(svc)) {
      double v = ChaosCluster.metric(i.port(), metric);
      System.out.println("chaos: " + i.name() + " " + metric + " = " + v);
      if (v > most) {
        most = v;
        best = i.n();
      }
    }
    return best;
  }

  private void kill(Svc svc, int n) throws Exception {
    Instance victim = cluster.instance(svc, n);
    run(
        "kill -9 " + victim.name(),
        new Fault() {
          @Override
          public void inject() throws Exception {
            cluster.kill(victim);
          }

          @Override
          public void recover() throws Exception {
            cluster.restart(victim); // comes up while the next fault runs (awaitAllHealthy)
          }

          @Override
          public boolean waitForRecovery() {
            return false;
          }
        });
  }

  /**
   * Runs {@code fault} under load and checks everything the suite promises; records the outcome
   * line for docs/chaos.md.
   */
  private void run(String name, Fault fault) throws Exception {
    String tag = "f" + (faults++);
    ForwardStream stream = new ForwardStream(sink);
    stream.start(forwardPort);
    Eventually.await("the forward moves bytes", RECOVERY, () -> stream.sent.get() > 512 * 1024);
    Messages messages = new Messages(tag);
    messages.start();
    Eventually.await("a message was sent", RECOVERY, () -> !messages.sent.isEmpty());

    cluster.awaitAllHealthy(); // a killed instance restarted by the previous fault
    long t0 = System.nanoTime();
    fault.inject();
    long checkedDown;
    long recovered;
    boolean undone = false;
    try {
      terminal.type("echo " + tag + "-during-$((40+2))\n");
      for (Instance i : fault.downWhileBroken()) {
        Eventually.await(
            i.name() + " /healthz says 503 while " + name,
            Duration.ofSeconds(15),
            () -> ChaosCluster.status(i.port()) == 503);
      }
      checkedDown = System.nanoTime();
      undone = true;
      fault.recover();
      recovered = System.nanoTime();
    } finally {
      if (!undone) {
        fault.recover(); // never leave the dependency broken for the next fault
      }
    }
    if (fault.waitForRecovery()) {
      cluster.awaitAllHealthy();
    }
    long healthy = System.nanoTime();
    try {
      terminal.await(
          "the terminal ran what was typed during " + name, tag + "-during-42", RECOVERY);
    } catch (AssertionError e) {
      throw new AssertionError(
          e.getMessage()
              + "; `umbra tty` alive: "
              + terminal.alive()
              + "; the daemon's WebTTY counters: "
              + tty.servers().get(0).stats().snapshot(),
          e);
    }
    long typed = System.nanoTime();
    terminal.type("echo " + tag + "-after-$((40+3))\n");
    terminal.await("the terminal runs what is typed after " + name, tag + "-after-43", RECOVERY);

    int before = messages.sent.size();
    Eventually.await(
        "messages flow again after " + name, RECOVERY, () -> messages.sent.size() >= before + 3);
    messages.stop();
    String[] digests = stream.finish(RECOVERY.toSeconds());
    long drained = System.nanoTime();
    Set<String> received = messages.receiveAll();
    Set<String> audited = auditedMessages(received);
    UmbraRun verify = ok(admin, "audit", "verify");

    assertThat(digests[1]).as("bytes through the forward, received vs sent").isEqualTo(digests[0]);
    assertThat(received).as("every message sent arrived").containsAll(messages.sent);
    assertThat(audited).as("one audit event per stored message").isEqualTo(received);
    assertThat(verify.out()).startsWith("ok: ");
    String outcome =
        String.format(
            "%s: healthz 503 seen on %d instances; all healthy %d ms after recovery began;"
                + " terminal answered %d ms after the fault; forward %s bytes intact;"
                + " %d messages sent (%d retried), %d received once each, %d audit events, chain ok",
            name,
            fault.downWhileBroken().size(),
            (healthy - recovered) / 1_000_000,
            (typed - t0) / 1_000_000,
            digests[0].split(" ")[0],
            messages.sent.size(),
            messages.retries,
            received.size(),
            audited.size());
    outcomes.add(outcome);
    System.out.println(
        "chaos outcome: "
            + outcome
            + " (fault held "
            + (recovered - checkedDown) / 1_000_000
            + " ms after the 503s; drained "
            + (drained - healthy) / 1_000_000
            + " ms)");
  }

  /**
   * The owner sends messages to the agent one after the other on a thread; a send that fails (the
   * fault) is retried until it succeeds, as a user would.
   */
  final class Messages {
    final String tag;
    final List<String> sent = new CopyOnWriteArrayList<>();
    final AtomicBoolean stop = new AtomicBoolean();
    volatile int retries;
    Thread thread;

    Messages(String tag) {
      this.tag = tag;
    }

    void start() {
      thread =
          Thread.ofPlatform()
              .name("chaos-messages")
              .start(
                  () -> {
                    for (int i = 0; !stop.get(); i++) {
                      String text = tag + "-m" + i;
                      while (!stop.get()) {
                        UmbraRun r = umbra(admin, "msg", "send", "bot", text, "--json");
                        if (r.code() == 0) {
                          sent.add(r.json().getString("id"));
                          break;
                        }
                        retries++;
                        LockSupport.parkNanos(200_000_000L); // back-off before the retry
                      }
                    }
                  });
    }

    void stop() throws InterruptedException {
      stop.set(true);
      assertThat(thread.join(Duration.ofSeconds(60))).isTrue();
    }

    /** Every message id the agent receives from now on until none is new; each must come once. */
    Set<String> receiveAll() {
      Set<String> ids = new HashSet<>();
      Map<String, Integer> seen = new HashMap<>();
      Eventually.await(
          "the agent received every message sent",
          RECOVERY,
          () -> {
            JsonArray got = ok(machine, "agent", "recv", "--json").array();
            for (Object o : got) {
              String id = ((JsonObject) o).getString("id");
              seen.merge(id, 1, Integer::sum);
              ids.add(id);
            }
            return ids.containsAll(sent);
          });
      assertThat(seen.values()).as("each message received once").allMatch(c -> c == 1);
      return ids;
    }
  }

  /**
   * The targets (message ids) of the audit's agent.message.sent events for {@code ids}, waiting
   * until all are stored; fails on an event stored twice.
   */
  private Set<String> auditedMessages(Set<String> ids) {
    List<String> targets = new ArrayList<>();
    Eventually.await(
        "an audit event for each message",
        RECOVERY,
        () -> {
          targets.clear();
          JsonArray events =
              ok(admin, "audit", "query", "--action", "agent.message.sent", "--all", "--json")
                  .array();
          for (Object o : events) {
            String target = ((JsonObject) o).getString("target", "");
            String id = target.substring(target.indexOf(':') + 1);
            if (ids.contains(id)) {
              targets.add(id);
            }
          }
          return new HashSet<>(targets).containsAll(ids);
        });
    assertThat(targets).as("no audit event stored twice").doesNotHaveDuplicates();
    return new HashSet<>(targets);
  }
}
