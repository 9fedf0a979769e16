package dev.umbra.cli.messaging;

import static dev.umbra.cli.CliHarness.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.CliHarness;
import dev.umbra.cli.UmbraCli;
import dev.umbra.client.tty.ChildEngine;
import dev.umbra.controlplane.Main;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestServices;
import dev.umbra.launcher.Cli;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Live delivery when things break (issue 17's must-show, docs/messaging.md "Receiving"): the owner
 * runs `umbra msg watch` through a proxy in front of the control plane; the agent sends through
 * another instance. With the owner's WebSocket blocked, polling delivers within 15 s; with the
 * instance that holds the owner's socket killed (SIGKILL, its own JVM) in the middle of a stream,
 * every message is shown exactly once and in order. Real PostgreSQL and Redis; instance A runs in
 * this JVM, instance B is a child JVM of the same classpath.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MessagingFailoverEndToEndTest {
  static final String BOOTSTRAP = "bootstrap-token-for-the-failover-test-0123456789";
  static final String INTERNAL = "internal-msgfail-credential-0123456789abcdef";
  CliHarness h;
  SwitchableProxy proxy;
  int portA;
  Path admin;
  Path machine;
  String account;
  final List<Process> children = new ArrayList<>();

  @BeforeAll
  void start() throws Exception {
    h = CliHarness.start("msgfail", BOOTSTRAP, ServiceName.PAIRING);
    portA = URI.create(h.cpUrl).getPort();
    proxy = SwitchableProxy.start(portA);
    admin = h.tmp.resolve("admin");
    machine = h.tmp.resolve("machine");
    // the owner's CLI knows the control plane by the proxy's address; the machine by A's
    ok(admin, "login", proxy.url(), "--bootstrap-token", BOOTSTRAP, "--workspace", "dev");
    ok(admin, "device", "trust", "-w", "dev");
    h.pairMachine(admin, machine);
    JsonObject enrolled = ok(machine, "agent", "enroll", "bot", "--json").json();
    ok(admin, "agents", "approve", "bot", "--code", enrolled.getString("verification_code"));
    ok(machine, "agent", "recv"); // publishes the agent's prekeys
    ok(admin, "msg", "send", "bot", "hello");
    account =
        ok(machine, "agent", "recv", "--json").array().getJsonObject(0).getString("account_id");
  }

  @AfterAll
  void stop() throws Exception {
    children.forEach(Process::destroyForcibly);
    proxy.close();
    h.close();
  }

  @Test
  @Order(1)
  void withItsWebSocketSwallowedTheOwnerGetsAMessageByPollingWithinFifteenSeconds()
      throws Exception {
    proxy.upgrades(SwitchableProxy.Upgrades.SWALLOW);
    try {
      Watch w = Watch.start(admin, 1);
      Eventually.await(
          "the watch polls",
          Duration.ofSeconds(30),
          () -> w.err.contains("umbra: socket down: polling every 15 s"));
      // just after a poll: the next one is the default 15 s away
      long sent = System.nanoTime();
      ok(machine, "agent", "send", account, "through polling");
      Eventually.await("delivered", Duration.ofSeconds(25), () -> !w.out.isEmpty());
      Duration took = Duration.ofNanos(System.nanoTime() - sent);
      assertThat(took).isLessThan(Duration.ofSeconds(15).plusSeconds(3));
      w.join();
      assertThat(w.texts()).containsExactly("through polling");
      assertThat(w.err).doesNotContain("umbra: connected");
      assertThat(proxy.upgradesSwallowed.get()).isPositive();
      assertThat(proxy.upgradesPassed.get()).isZero();
      System.out.printf(
          "socket swallowed: delivered by polling %d ms after the send%n", took.toMillis());
    } finally {
      proxy.upgrades(SwitchableProxy.Upgrades.PASS);
    }
  }

  @Test
  @Order(2)
  void killingTheInstanceThatHoldsTheOwnersSocketMidStreamLosesAndDuplicatesNothing()
      throws Exception {
    int n = 30;
    int portB = TestServices.portForAChildProcess();
    Process b = startInstance(portB);
    proxy.target(portB);
    Watch w = Watch.start(admin, n);
    Eventually.await(
        "the owner's socket is live on B",
        Duration.ofSeconds(30),
        () -> w.err.contains("umbra: connected"));

    AtomicInteger sentCount = new AtomicInteger();
    List<String> expected = IntStream.rangeClosed(1, n).mapToObj(i -> "m-" + i).toList();
    Thread sender =
        Thread.ofPlatform()
            .start(
                () -> {
                  for (String text : expected) {
                    ok(machine, "agent", "send", account, text); // through A
                    sentCount.incrementAndGet();
                  }
                });
    // the moment a copy is stored: B is about to push it (or has, and waits for the ack)
    Eventually.await("a third sent", Duration.ofSeconds(60), () -> sentCount.get() >= n / 3);
    b.destroyForcibly().waitFor(); // SIGKILL: no drain, no goodbye to its sockets
    long killedAt = System.nanoTime();
    int shownAtKill = w.out.size();
    int sentAtKill = sentCount.get();
    proxy.target(portA); // the load balancer's health check takes B out
    sender.join(Duration.ofSeconds(90));
    long sentAllAt = System.nanoTime();
    w.join();
    long shownAllAt = System.nanoTime();

    assertThat(b.exitValue()).isEqualTo(137);
    assertThat(sentAtKill).as("the agent was still sending").isLessThan(n);
    assertThat(shownAtKill).isLessThan(n);
    assertThat(w.texts()).containsExactlyElementsOf(expected);
    assertThat(w.err).filteredOn(l -> l.startsWith("umbra: disconnected")).isNotEmpty();
    assertThat(w.err).filteredOn(l -> l.equals("umbra: connected")).hasSizeGreaterThanOrEqualTo(2);
    assertThat(ok(admin, "msg", "read", "--json").array()).as("nothing left to show").isEmpty();
    assertThat(pendingCopies()).as("every copy acknowledged").isZero();
    System.out.printf(
        "kill -9 of the owner's instance: %d of %d sent and %d shown at the kill; all %d shown once;"
            + " last sent %d ms and last shown %d ms after the kill; watch said %s%n",
        sentAtKill,
        n,
        shownAtKill,
        n,
        (sentAllAt - killedAt) / 1_000_000,
        (shownAllAt - killedAt) / 1_000_000,
        w.err);
  }

  /** `umbra msg watch --count n --json` on a thread; its stdout and stderr lines as they come. */
  static final class Watch {
    final List<String> out = new CopyOnWriteArrayList<>();
    final List<String> err = new CopyOnWriteArrayList<>();
    final AtomicInteger code = new AtomicInteger(-1);
    Thread thread;

    static Watch start(Path home, int count) {
      Watch w = new Watch();
      w.thread =
          Thread.ofPlatform()
              .start(
                  () ->
                      w.code.set(
                          UmbraCli.execute(
                              home,
                              lines(w.out),
                              lines(w.err),
                              Map.of("USER", "alice"),
                              Cli.commands(),
                              "msg",
                              "watch",
                              "--count",
                              Integer.toString(count),
                              "--json")));
      return w;
    }

    void join() throws InterruptedException {
      assertThat(thread.join(Duration.ofSeconds(90))).as("watch ended; stderr: " + err).isTrue();
      assertThat(code.get()).as("exit code; stderr: " + err).isZero();
    }

    List<String> texts() {
      return out.stream().map(l -> new JsonObject(l).getString("text")).toList();
    }

    private static PrintStream lines(List<String> into) {
      return new PrintStream(
          new OutputStream() {
            private final ByteArrayOutputStream line = new ByteArrayOutputStream();

            @Override
            public synchronized void write(int b) {
              if (b == '\n') {
                into.add(line.toString(StandardCharsets.UTF_8));
                line.reset();
              } else {
                line.write(b);
              }
            }
          },
          true,
          StandardCharsets.UTF_8);
    }
  }

  /** A second control-plane instance, its own JVM, on the same database and bus. */
  private Process startInstance(int port) throws Exception {
    Path log = Path.of("target", "messaging-failover-b.log");
    Files.createDirectories(log.getParent()); // outside UMBRA_HOME
    Process p =
        TestServices.childJvm(
                Main.class,
                log,
                h.pg,
                h.prefix,
                Map.of(
                    "UMBRA_CONTROL_PLANE_PORT",
                    Integer.toString(port),
                    "UMBRA_HOME",
                    h.tmp.resolve("instance-b").toString(),
                    "UMBRA_INTERNAL_TOKEN",
                    INTERNAL))
            .start();
    children.add(p);
    Eventually.await(
        "instance B healthy (see " + log + ")",
        Duration.ofSeconds(60),
        () -> {
          assertThat(p.isAlive()).as("instance B exited; see " + log).isTrue();
          return ChildEngine.healthy(port);
        });
    return p;
  }

  private long pendingCopies() throws Exception {
    try (Connection c = h.pg.ownerConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM control_plane.messages")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
