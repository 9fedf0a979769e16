package dev.umbra.cli.work;

import static dev.umbra.cli.CliHarness.ok;
import static dev.umbra.cli.CliHarness.umbra;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.umbra.cli.CliHarness;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.bus.StreamEntry;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.testing.BusTraffic;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.proto.audit.AuditEvent;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.LoggerFactory;

/**
 * Agent work through the real `umbra` commands (docs/agents.md) against a real control plane on
 * PostgreSQL and Redis: an agent enrolled on a paired machine raises an inbox item with `umbra
 * agent ask` and waits; an admin decides it with `umbra inbox decide`; the agent's command returns
 * the decision. Plans go through publish, comment, approve and show. The text of both is stored by
 * design, in its own tables only: never on the bus, in Redis or in a log line.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AgentWorkEndToEndTest {
  static final String BOOTSTRAP = "bootstrap-token-for-the-agent-work-test-0123456789";
  CliHarness h;
  Path admin;
  Path machine;
  List<String> busSeen;
  final ListAppender<ILoggingEvent> logs = new ListAppender<>();

  @BeforeAll
  void start() throws Exception {
    logs.start();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
    h = CliHarness.start("work", BOOTSTRAP, ServiceName.PAIRING);
    busSeen = BusTraffic.recordAll(h.bus);
    admin = h.tmp.resolve("admin");
    machine = h.tmp.resolve("machine");
    ok(admin, "login", h.cpUrl, "--bootstrap-token", BOOTSTRAP, "--workspace", "dev");
    ok(admin, "device", "trust", "-w", "dev");
    h.pairMachine(admin, machine);
    JsonObject enrolled = ok(machine, "agent", "enroll", "bot", "--json").json();
    ok(admin, "agents", "approve", "bot", "--code", enrolled.getString("verification_code"));
  }

  @AfterAll
  void stop() throws Exception {
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
    h.close();
  }

  static String canary() {
    byte[] raw = new byte[16];
    new SecureRandom().nextBytes(raw);
    return "canary-" + HexFormat.of().formatHex(raw);
  }

  @Test
  void anAgentWaitsForTheDecisionAMemberTakesFromTheCliAndGetsItAtOnce() throws Exception {
    String question = "delete the build directory? " + canary();
    CompletableFuture<UmbraRun> asking =
        CompletableFuture.supplyAsync(
            () ->
                umbra(
                    machine,
                    "agent",
                    "ask",
                    question,
                    "--default",
                    "deny",
                    "--deadline",
                    "600",
                    "--json"));
    JsonArray open =
        Eventually.until(
            "the agent's item is in the admin's inbox",
            Duration.ofSeconds(60),
            () -> ok(admin, "inbox", "list", "--status", "open", "--json").array(),
            a -> a.size() == 1);
    JsonObject item = open.getJsonObject(0);
    assertThat(item.getString("question")).isEqualTo(question);
    assertThat(item.getString("default")).isEqualTo("deny");
    assertThat(asking).isNotDone();

    assertThat(umbra(admin, "inbox", "decide", item.getString("id"), "maybe").code()).isEqualTo(1);
    long decidedAt = System.nanoTime();
    ok(admin, "inbox", "decide", item.getString("id"), "approve");
    UmbraRun asked = asking.get(60, TimeUnit.SECONDS);
    assertThat(Duration.ofNanos(System.nanoTime() - decidedAt))
        .as("the waiting agent got the decision at once, not at its next poll")
        .isLessThan(Duration.ofSeconds(30));
    assertThat(asked.code()).as(asked.err()).isZero();
    JsonObject decided = asked.json();
    assertThat(decided.getString("status")).isEqualTo("decided");
    assertThat(decided.getString("answer")).isEqualTo("approve");
    assertThat(umbra(admin, "inbox", "decide", item.getString("id"), "deny").code()).isEqualTo(1);

    assertThat(storedOnlyIn(question)).containsOnly("control_plane.inbox_items");
    assertThat(leaks(question)).isEmpty();
    String target = "inbox_item:" + item.getString("id");
    assertThat(
            Eventually.until(
                "the raise and the decision are audited",
                Duration.ofSeconds(10),
                () -> audited(target),
                a -> a.size() >= 2))
        .containsExactly("inbox.item_raised:machine", "inbox.item_decided:member");
  }

  @Test
  void aPlanIsPublishedCommentedApprovedAndShownFromTheCli() throws Exception {
    String secret = canary();
    String body = "# Migrate\n\n" + secret + "\n";
    Path file = h.tmp.resolve("plan.md");
    Files.writeString(file, body);
    JsonObject published =
        ok(
                admin,
                "plans",
                "publish",
                "Migrate the database",
                "--body",
                file.toString(),
                "--step",
                "dump",
                "--step",
                "restore",
                "--json")
            .json();
    String id = published.getJsonObject("plan").getString("id");
    ok(admin, "plans", "comment", id, "check the restore time");
    JsonObject approved = ok(admin, "plans", "approve", id, "--json").json();
    assertThat(approved.getJsonObject("plan").getString("status")).isEqualTo("approved");
    JsonObject shown = ok(admin, "plans", "show", id, "--json").json();
    assertThat(shown.getJsonObject("shown").getString("body")).isEqualTo(body);
    assertThat(shown.getJsonObject("shown").getJsonArray("steps"))
        .containsExactly("dump", "restore");
    assertThat(shown.getJsonArray("comments")).hasSize(1);
    assertThat(ok(admin, "plans", "show", id).out()).contains("restore").contains("approve v1");
    assertThat(ok(admin, "plans", "list", "--json").array()).hasSize(1);

    assertThat(storedOnlyIn(secret)).containsOnly("control_plane.plan_versions");
    assertThat(leaks(secret)).isEmpty();
  }

  /**
   * The audit events sent about {@code target}, as {@code action:actor-kind}, read from the audit
   * ingest stream (no audit service runs here to consume it).
   */
  private List<String> audited(String target) throws Exception {
    List<String> out = new ArrayList<>();
    for (StreamEntry e : await(h.bus.range(BusNames.AUDIT_INGEST, "0-0", 10_000))) {
      AuditEvent a = AuditEvent.parseFrom(e.body().getBytes());
      if (a.getTarget().equals(target)) {
        out.add(
            a.getAction()
                + ":"
                + a.getActor().getKind().name().replace("ACTOR_KIND_", "").toLowerCase());
      }
    }
    return out;
  }

  /** The tables whose rows hold {@code text}. */
  private List<String> storedOnlyIn(String text) throws Exception {
    List<String> tables = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : h.pg.rowsAsText().entrySet()) {
      if (e.getValue().stream().anyMatch(r -> r.contains(text))) {
        tables.add(e.getKey());
      }
    }
    return tables;
  }

  /** Where {@code text} must never be: the bus, Redis, the log. */
  private List<String> leaks(String text) throws Exception {
    List<String> leaks = new ArrayList<>();
    String hex = HexFormat.of().formatHex(text.getBytes(StandardCharsets.UTF_8));
    for (String line : busSeen) {
      if (line.contains(text) || line.contains(hex)) {
        leaks.add("bus: " + line);
      }
    }
    for (ILoggingEvent e : List.copyOf(logs.list)) {
      String line = e.getFormattedMessage() + " " + e.getKeyValuePairs();
      if (line.contains(text) || line.contains(hex)) {
        leaks.add("log: " + line);
      }
    }
    Redis redis = Redis.createClient(h.vertx, TestRedis.url().toString());
    try {
      Response keys = await(redis.send(Request.cmd(Command.KEYS).arg(h.prefix + "*")));
      for (Response k : keys) {
        Response dump = await(redis.send(Request.cmd(Command.DUMP).arg(k.toString())));
        String value = dump == null ? "" : new String(dump.toBytes(), StandardCharsets.ISO_8859_1);
        if (value.contains(text)) {
          leaks.add("redis: " + k);
        }
      }
    } finally {
      redis.close();
    }
    return leaks;
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
