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
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
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

/**
 * The chaos suite's load on a {@link ChaosCluster} and its checks (docs/chaos.md, "The load" and
 * "Per fault, checked"): the owner's CLI and a paired machine whose daemon runs in this JVM, an
 * `umbra forward` and an `umbra tty` as their own processes, and per fault a forwarded stream,
 * typed lines and messages to an agent whose sends emit audit events.
 */
final class ChaosLoad implements AutoCloseable {
  static final Duration RECOVERY = Duration.ofSeconds(60);

  /** What one fault does: break something, then undo it as an operator or orchestrator would. */
  interface Fault {
    void inject() throws Exception;

    /** Instances whose /healthz must say 503 while the fault lasts (none for a kill). */
    default List<Instance> downWhileBroken() {
      return List.of();
    }

    /**
     * Whether the deployment must go on serving while broken (one instance of each service is
     * left): messages are then sent while the fault holds, through HAProxy, before it is undone.
     */
    default boolean servesWhileBroken() {
      return false;
    }

    void recover() throws Exception;

    /** Whether the fault's checks wait until every instance is healthy again. */
    default boolean waitForRecovery() {
      return true;
    }
  }

  /** A step of a fault that may throw. */
  interface Step {
    void run() throws Exception;
  }

  /**
   * The outage of a dependency: {@code inject} breaks it, every instance of {@code down} must say
   * 503 until {@code recover} brings it back.
   */
  static Fault outage(Step inject, List<Instance> down, Step recover) {
    return new Fault() {
      @Override
      public void inject() throws Exception {
        inject.run();
      }

      @Override
      public List<Instance> downWhileBroken() {
        return down;
      }

      @Override
      public void recover() throws Exception {
        recover.run();
      }
    };
  }

  /**
   * SIGKILL of {@code victim}, started again at once on its port as an orchestrator would (it comes
   * up while the checks and the next fault run: the other instance serves).
   */
  Fault kill(Instance victim) {
    return new Fault() {
      @Override
      public void inject() throws Exception {
        cluster.kill(victim);
      }

      @Override
      public void recover() throws Exception {
        cluster.restart(victim);
      }

      @Override
      public boolean waitForRecovery() {
        return false;
      }
    };
  }

  final ChaosCluster cluster;
  final Path tmp;
  final Path admin;
  final Path machine;
  final BindingStore store;
  DaemonRelay relay;
  TtyDaemon tty;
  ForwardStream.Sink sink;
  CliProcess forward;
  CliProcess terminal;
  int forwardPort;
  final List<String> outcomes = new CopyOnWriteArrayList<>();
  private int faults;

  private ChaosLoad(ChaosCluster cluster, Path tmp) throws Exception {
    this.cluster = cluster;
    this.tmp = tmp;
    this.admin = home("admin");
    this.machine = home("machine");
    String cp = cluster.url(Svc.CONTROL_PLANE).toString();
    // after the ten JVMs' start: on a loaded machine their JIT starves the first requests (at a
    // load of 30 on two cores one took over two minutes to start)
    for (Instance i : cluster.all()) {
      cluster.awaitHealthy(i, Duration.ofSeconds(240));
    }
    cluster.awaitAllHealthy();
    ok(admin, "login", cp, "--bootstrap-token", ChaosCluster.BOOTSTRAP, "--workspace", "dev");
    ok(admin, "device", "trust", "-w", "dev");
    String code =
        ok(admin, "pair", "create", "--json", "--workspace", "dev").json().getString("code");
    ok(machine, "daemon", "pair", code, "--url", cp, "--name", "local");
    store = new BindingStore(machine);
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
  }

  /**
   * Sets up the owner, the machine, the agent, the daemon and the two long-running commands on a
   * started {@code cluster}; returns once the terminal's shell answers.
   */
  static ChaosLoad start(ChaosCluster cluster) throws Exception {
    ChaosLoad load =
        new ChaosLoad(cluster, Files.createTempDirectory("umbra-chaos")); // outside UMBRA_HOME
    try {
      load.clients();
      return load;
    } catch (Exception | AssertionError e) {
      load.close();
      throw e;
    }
  }

  private void clients() throws Exception {
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
  }

  /**
   * Ends the terminal and opens another (`umbra tty local` again: a session of its own, output in
   * {@code log}); returns once its shell answers, with its session id.
   */
  String reopenTerminal(String log) throws Exception {
    terminal.close();
    terminal = CliProcess.start(admin, cluster.dir.resolve(log), "tty", "local");
    terminal.await("the new terminal opens", "[umbra] session", RECOVERY);
    terminal.type("echo again-$((20+2))\n");
    terminal.await("the new terminal's shell answers", "again-22", RECOVERY);
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("\\[umbra] session (\\S+) ").matcher(terminal.output());
    assertThat(m.find()).as("the session id in " + log).isTrue();
    return m.group(1);
  }

  private Path home(String name) throws Exception {
    return Files.createDirectories(
        tmp.resolve(name),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
  }

  /** The instance of {@code svc} with the most of gauge {@code metric} (0 when none has any). */
  int busiest(Svc svc, String metric) {
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

  /** What a fault's run measured: its tag (in the typed lines) and when the terminal answered. */
  record Ran(String tag, long terminalMs) {}

  /**
   * Runs {@code fault} under load and checks everything the suite promises; records the outcome
   * line for docs/chaos.md.
   */
  Ran run(String name, Fault fault) throws Exception {
    String tag = "f" + (faults++);
    ForwardStream stream = new ForwardStream(sink);
    Messages messages = new Messages(tag);
    try {
      return run(name, fault, tag, stream, messages);
    } catch (Exception | AssertionError e) {
      // the next fault starts clean: no sender left running, and the sink (which reads one stream
      // at a time) not left reading this one, which would fail every later fault's stream
      messages.stop.set(true);
      stream.abandon(RECOVERY.toSeconds());
      throw e;
    }
  }

  private Ran run(String name, Fault fault, String tag, ForwardStream stream, Messages messages)
      throws Exception {
    stream.start(forwardPort);
    Eventually.await("the forward moves bytes", RECOVERY, () -> stream.sent.get() > 512 * 1024);
    messages.start();
    Eventually.await("a message was sent", RECOVERY, () -> !messages.sent.isEmpty());

    cluster.awaitAllHealthy(); // a killed instance restarted by the previous fault
    long t0 = System.nanoTime();
    fault.inject();
    long checkedDown;
    long recovered;
    int sentWhileBroken = 0;
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
      if (fault.servesWhileBroken()) {
        int at = messages.sent.size();
        Eventually.until(
            "messages are sent while " + name + " (HAProxy routes around it)",
            RECOVERY,
            messages::describe,
            d -> messages.sent.size() >= at + 3);
        sentWhileBroken = messages.sent.size() - at;
      }
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
    Eventually.until(
        "messages flow again after " + name,
        RECOVERY,
        messages::describe,
        d -> messages.sent.size() >= before + 3);
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
            "%s: healthz 503 seen on %d instances; %s all healthy %d ms after recovery began;"
                + " terminal answered %d ms after the fault; forward %s bytes intact;"
                + " %d messages sent (%d retried), %d received once each, %d audit events, chain ok",
            name,
            fault.downWhileBroken().size(),
            fault.servesWhileBroken() ? sentWhileBroken + " messages sent while broken;" : "",
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
    return new Ran(tag, (typed - t0) / 1_000_000);
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
    volatile String lastFailure = "none";
    volatile long lastSentNanos = System.nanoTime();
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
                          lastSentNanos = System.nanoTime();
                          break;
                        }
                        retries++;
                        lastFailure =
                            Instant.now()
                                + " exit "
                                + r.code()
                                + ": "
                                + r.err().strip().lines().findFirst().orElse("(no message)");
                        LockSupport.parkNanos(200_000_000L); // back-off before the retry
                      }
                    }
                  });
    }

    /** What the sender did so far, for a failure's message: what failed last, and why. */
    String describe() {
      return sent.size()
          + " sent, the last "
          + (System.nanoTime() - lastSentNanos) / 1_000_000
          + " ms ago; "
          + retries
          + " retried, the last failure: "
          + lastFailure;
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

  @Override
  public void close() throws Exception {
    outcomes.forEach(o -> System.out.println("chaos outcome: " + o));
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
    new ProcessBuilder("rm", "-rf", tmp.toString()).start().waitFor(30, TimeUnit.SECONDS);
  }
}
