package dev.umbra.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.kit.bus.BusMessage;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.log.LogRing;
import dev.umbra.kit.testing.CanaryScan;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DESIGN.md §6 blindness test: a random canary goes through every path that exists (relay command
 * channel, agent session, WebTTY terminal, context vault, a workflow's input and output,
 * owner-agent messages both ways), then every PostgreSQL table, every Redis key and every bus
 * message seen, and every log line of the platform and of the CLI are scanned: the canary must not
 * appear in any form (text, hex or base64).
 */
class BlindnessCanaryTest {
  /** How long a late leak (a recording, an audit event) is given to be written before the scan. */
  static final Duration LATE_LEAK_WINDOW = Duration.ofMillis(1500);

  @TempDir Path tmp;

  private static UmbraRun cli(Path home, String... args) {
    return UmbraRun.of(home, System.getenv(), List.of(), args);
  }

  @Test
  void noCanaryInPostgresRedisOrLogsAfterCrossingEveryPath() throws Exception {
    byte[] raw = new byte[16];
    new SecureRandom().nextBytes(raw);
    String canary = "canary" + HexFormat.of().formatHex(raw);
    List<String> forms = CanaryScan.forms(canary);

    Path home = tmp.resolve("home");
    String prefix = TestRedis.randomPrefix();
    Vertx vertx = Vertx.vertx();
    RedisBus watcher = RedisBus.create(vertx, TestRedis.url(), prefix);
    List<BusMessage> seen = new CopyOnWriteArrayList<>();
    watcher
        .subscribePattern("umbra.*", seen::add)
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);

    try (TestPostgres pg = TestPostgres.createDatabase()) {
      Map<String, String> env = new HashMap<>();
      env.put("UMBRA_HOME", home.toString());
      env.put("UMBRA_PG_URL", pg.url().toString());
      env.put("UMBRA_REDIS_URL", TestRedis.url().toString());
      env.put("UMBRA_BUS_PREFIX", prefix);
      for (String s :
          new String[] {"CONTROL_PLANE", "RELAY", "PAIRING", "AUDIT", "WEBTTY_ENGINE"}) {
        env.put("UMBRA_" + s + "_PORT", Integer.toString(ChildJvm.freePort()));
      }
      try (ChildJvm platform = ChildJvm.start("dev.umbra.launcher.Umbra", env, "dev")) {
        platform.awaitLine(l -> l.startsWith(DevMode.READY + " in "), 120);
        platform.awaitLine(l -> l.contains("reachable through the relay"), 60);

        // relay channel: a command whose output is the canary
        UmbraRun run = cli(home, "run", "local", "--no-stdin", "--", "sh", "-c", "echo " + canary);
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains(canary);

        // agent session: a configured runtime gets the canary in a prompt and says it back; the
        // frames cross the relay end to end and the transcript stays in the machine's home
        Path bot = home.resolve("canary-bot.sh");
        java.nio.file.Files.writeString(
            bot,
            "read -r line\n"
                + "text=$(printf '%s' \"$line\" | sed 's/.*\"text\":\"\\(.*\\)\"}$/\\1/')\n"
                + "printf '{\"type\":\"output\",\"text\":\"said %s\"}\\n' \"$text\"\n");
        Path runtimes = home.resolve("agent-runtimes.json");
        java.nio.file.Files.writeString(
            runtimes, "{\"runtimes\":{\"canary-bot\":{\"argv\":[\"/bin/sh\",\"" + bot + "\"]}}}");
        java.nio.file.Files.setPosixFilePermissions(
            runtimes, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        UmbraRun agentSession =
            cli(
                home,
                "agent-session",
                "start",
                "local",
                "canary-bot",
                "--prompt",
                canary,
                "--json");
        assertThat(agentSession.code()).as(agentSession.err()).isZero();
        assertThat(agentSession.out()).contains("said " + canary);

        // WebTTY terminal (recorded): the canary typed and echoed
        platform.awaitLine(l -> l.contains("WebTTY server") && l.contains("registered"), 60);
        UmbraRun tty = cli(home, "tty", "local", "--e2e", "--command", "echo " + canary);
        assertThat(tty.code()).as(tty.err()).isZero();
        assertThat(tty.out()).contains(canary);

        // context vault: a value stored as ciphertext and read back
        Path secret = tmp.resolve("secret.txt");
        java.nio.file.Files.writeString(secret, canary);
        UmbraRun put = cli(home, "vault", "put", "canary-entry", "--from-file", secret.toString());
        assertThat(put.code()).as(put.err()).isZero();
        UmbraRun get = cli(home, "vault", "get", "canary-entry");
        assertThat(get.code()).as(get.err()).isZero();
        assertThat(get.out()).contains(canary);

        // signed workflow (docs/agents.md, "Workflows"): the canary is an input and the step's
        // output; the definition's text (stored by design) does not hold it
        Path definition = tmp.resolve("canary.yaml");
        java.nio.file.Files.writeString(
            definition,
            "name: canary\ninputs:\n  value:\n    required: true\nsteps:\n  - id: echo\n"
                + "    machine: local\n    run: [echo, \"${inputs.value}\"]\n");
        UmbraRun stored = cli(home, "workflows", "put", definition.toString());
        assertThat(stored.code()).as(stored.err()).isZero();
        UmbraRun flow = cli(home, "workflows", "run", "canary", "--input", "value=" + canary);
        assertThat(flow.code()).as(flow.err()).isZero();
        assertThat(flow.out()).contains(canary);

        // owner <-> agent messages: an agent enrolled on this machine and approved by its code,
        // the canary sent to it and back (docs/messaging.md)
        UmbraRun enrol = cli(home, "agent", "enroll", "canary-bot", "--json");
        assertThat(enrol.code()).as(enrol.err()).isZero();
        JsonObject agent = new JsonObject(enrol.out());
        UmbraRun approve =
            cli(
                home,
                "agents",
                "approve",
                "canary-bot",
                "--code",
                agent.getString("verification_code"));
        assertThat(approve.code()).as(approve.err()).isZero();
        assertThat(cli(home, "agent", "recv").code()).isZero(); // publishes the agent's prekeys
        UmbraRun send = cli(home, "msg", "send", "canary-bot", "to the agent " + canary);
        assertThat(send.code()).as(send.err()).isZero();
        UmbraRun received = cli(home, "agent", "recv", "--json");
        assertThat(received.code()).as(received.err()).isZero();
        JsonObject first = new JsonArray(received.out()).getJsonObject(0);
        assertThat(first.getString("text")).isEqualTo("to the agent " + canary);
        UmbraRun answer =
            cli(home, "agent", "send", first.getString("account_id"), "to the owner " + canary);
        assertThat(answer.code()).as(answer.err()).isZero();
        UmbraRun read = cli(home, "msg", "read");
        assertThat(read.code()).as(read.err()).isZero();
        assertThat(read.out()).contains("to the owner " + canary);

        // a window for any late leak to be written (recordings, audit events) before the scan looks
        // for its absence: the window's length is the point; the bus and the logs are watched all
        // through it, the stores are scanned once after it
        Eventually.holdsThroughout(
            "no canary on the bus or in a log line",
            LATE_LEAK_WINDOW,
            () -> busAndLogLeaks(seen, platform, forms).isEmpty());
        List<String> found = new ArrayList<>();
        scanPostgres(pg, forms, found);
        CanaryScan.Result redis = CanaryScan.redis(vertx, prefix, forms);
        assertThat(redis.scanned()).as("Redis keys of this run").isNotEmpty();
        found.addAll(redis.found());
        assertThat(seen).as("bus messages were observed").isNotEmpty();
        found.addAll(busAndLogLeaks(seen, platform, forms));
        assertThat(found).as("places holding the canary").isEmpty();
        // the daemon reported the run (exit status and duration, never the command line, which held
        // the canary)
        List<String> reported =
            Eventually.until(
                "command.run reached audit.events",
                Duration.ofSeconds(15),
                () -> {
                  try (Connection c = pg.ownerConnection();
                      Statement st = c.createStatement();
                      ResultSet rs =
                          st.executeQuery(
                              "SELECT actor_kind, metadata->>'exit_status', metadata ? 'duration_ms' "
                                  + "FROM audit.events WHERE action = 'command.run'")) {
                    return rs.next()
                        ? List.of(
                            rs.getString(1), rs.getString(2), String.valueOf(rs.getBoolean(3)))
                        : null;
                  }
                },
                Objects::nonNull);
        assertThat(reported)
            .as("actor kind, exit status, has a duration")
            .containsExactly("machine", "0", "true");

        // the scanner itself works: a value that is plaintext by design (a machine name) is found
        String control = "control" + HexFormat.of().formatHex(raw);
        assertThat(cli(home, "machines", "rename", "local", control).code()).isZero();
        List<String> controlFound = new ArrayList<>();
        scanPostgres(pg, List.of(control), controlFound);
        assertThat(controlFound).anyMatch(p -> p.contains("machines"));
        assertThat(platform.terminate(15)).isZero();
      }
    } finally {
      watcher.close();
      vertx.close();
    }
  }

  /** The bus messages and log lines (platform and CLI) holding one of the canary's forms. */
  private static List<String> busAndLogLeaks(
      List<BusMessage> seen, ChildJvm platform, List<String> forms) {
    List<String> found = new ArrayList<>();
    for (BusMessage m : seen) {
      String text = m.channel() + " " + m.body().toString(StandardCharsets.ISO_8859_1);
      forms.stream()
          .filter(text::contains)
          .forEach(f -> found.add("bus message on " + m.channel()));
    }
    String platformLog = platform.output();
    forms.stream().filter(platformLog::contains).forEach(f -> found.add("platform log line"));
    String cliLog = String.join("\n", LogRing.installed().recent(2000));
    forms.stream().filter(cliLog::contains).forEach(f -> found.add("CLI log line"));
    return found;
  }

  private static void scanPostgres(TestPostgres pg, List<String> forms, List<String> found)
      throws Exception {
    CanaryScan.Result scan = CanaryScan.postgres(pg, forms);
    assertThat(scan.scanned())
        .as("tables to scan (the scan lists them from the catalog: new ones are in)")
        .hasSizeGreaterThan(10)
        .contains("control_plane.messages", "control_plane.webhook_deliveries");
    assertThat(scan.items()).as("rows scanned").isPositive();
    found.addAll(scan.found());
  }
}
