package dev.umbra.cli.agent;

import static dev.umbra.cli.CliHarness.ok;
import static dev.umbra.cli.CliHarness.umbra;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.umbra.cli.CliHarness;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.daemon.agent.AgentSessions;
import dev.umbra.daemon.channel.DaemonRelay;
import dev.umbra.kit.testing.BusTraffic;
import dev.umbra.kit.testing.CanaryScan;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Agent sessions end to end (docs/agents.md, "Agent sessions") through the real `umbra` commands, a
 * real relay and a real daemon on the machine, with a scripted runtime (a shell script speaking the
 * runtime protocol): a session is started, two clients (two trusted devices) watch it, a prompt
 * from a third invocation reaches the runtime and its answer reaches both, a client detaches and
 * re-attaches, the transcript is paged from the daemon, an approval the runtime asked for is given
 * once (a replay is refused), and the session's end leaves a run record with byte counts and its
 * exit status. A random canary in a prompt and in the runtime's output is then in no table, Redis
 * key or stream (audit ingest included), bus message or log line: only in the machine's 0600
 * transcript.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public class AgentSessionEndToEndTest {
  static final String BOOTSTRAP = "bootstrap-token-for-the-agent-session-test-0123456789";

  /**
   * The scripted runtime: a status, one malformed line (the daemon refuses it and says so), then
   * for each prompt a tool call, its result and an answer; "deploy" asks for an approval; "bye"
   * ends with exit status 3.
   */
  public static final String BOT =
      """
      #!/bin/sh
      echo '{"type":"status","state":"ready","message":"bot up"}'
      echo 'this line is not a frame'
      while IFS= read -r line; do
        case "$line" in
          *'"type":"prompt"'*)
            text=$(printf '%s' "$line" | sed 's/.*"text":"\\(.*\\)"}$/\\1/')
            case "$text" in
              bye) echo '{"type":"output","text":"goodbye"}'; exit 3 ;;
              deploy) echo '{"type":"approval_request","id":"a1","question":"deploy to prod?"}' ;;
              *) printf '{"type":"tool_call","id":"t1","name":"echo","input":"%s"}\\n' "$text"
                 printf '{"type":"tool_result","id":"t1","output":"ok"}\\n'
                 printf '{"type":"output","text":"you said: %s"}\\n' "$text" ;;
            esac ;;
          *'"answer":"approve"'*) echo '{"type":"output","text":"deploying now"}' ;;
          *'"answer":"deny"'*) echo '{"type":"output","text":"not deploying"}' ;;
        esac
      done
      """;

  AgentMachine m;
  CliHarness h;
  Path admin;
  Path laptop;
  Path machine;
  DaemonRelay relay;
  List<String> busSeen;
  ListAppender<ILoggingEvent> logs;

  @BeforeAll
  void start() throws Exception {
    logs = CliHarness.recordLogs();
    m = AgentMachine.start("agentsess", BOOTSTRAP, BOT, false);
    h = m.h;
    admin = m.admin;
    laptop = m.laptop;
    machine = m.machine;
    relay = m.relay;
    busSeen = BusTraffic.recordAll(h.bus);
  }

  @AfterAll
  void stop() throws Exception {
    CliHarness.stopRecordingLogs(logs);
    m.close();
  }

  static String canary() {
    byte[] raw = new byte[16];
    new SecureRandom().nextBytes(raw);
    return "canary" + HexFormat.of().formatHex(raw);
  }

  static List<JsonObject> frames(UmbraRun run) {
    return AgentMachine.frames(run);
  }

  static List<String> texts(List<JsonObject> frames) {
    return frames.stream()
        .map(
            f ->
                f.getString("type")
                    + ":"
                    + f.getString("text", f.getString("state", f.getString("name", ""))))
        .toList();
  }

  static CompletableFuture<UmbraRun> watch(Path home, String session, String until) {
    return AgentMachine.watch(home, session, until, 90);
  }

  JsonObject listed(String session) {
    return m.listed(session);
  }

  @Test
  void aSessionIsWatchedByTwoClientsPromptedReattachedPagedApprovedAndLeavesARecordOnly()
      throws Exception {
    String secret = canary();
    UmbraRun started = ok(admin, "agent-session", "start", "local", "bot", "--detach", "--json");
    String session =
        new JsonObject(started.out().lines().findFirst().orElseThrow()).getString("session_id");
    assertThat(listed(session).getString("runtime")).isEqualTo("bot");
    assertThat(umbra(admin, "agent-session", "start", "local", "/bin/sh").code())
        .as("only a configured runtime id starts")
        .isEqualTo(1);

    // two clients watch; a prompt from a third invocation reaches the runtime, the answer both
    CompletableFuture<UmbraRun> a = watch(admin, session, "you said: hello " + secret);
    CompletableFuture<UmbraRun> b = watch(laptop, session, "you said: hello " + secret);
    Eventually.until(
        "both clients watch",
        Duration.ofSeconds(60),
        AgentMachine.LIST_POLL,
        () -> listed(session),
        s -> s.getInteger("watchers") == 2);
    ok(
        admin,
        "agent-session",
        "attach",
        "local",
        session,
        "--prompt",
        "hello " + secret,
        "--detach");
    for (UmbraRun w : List.of(a.get(90, TimeUnit.SECONDS), b.get(90, TimeUnit.SECONDS))) {
      assertThat(w.code()).as(w.err()).isZero();
      List<JsonObject> seen = frames(w);
      assertThat(texts(seen))
          .containsSubsequence(
              "status:ready",
              "status:runtime_error",
              "prompt:hello " + secret,
              "tool_call:echo",
              "tool_result:",
              "output:you said: hello " + secret);
      assertThat(seen.stream().mapToLong(f -> f.getLong("seq")).toArray())
          .isSorted()
          .doesNotHaveDuplicates();
    }
    Eventually.until(
        "both detached",
        Duration.ofSeconds(30),
        AgentMachine.LIST_POLL,
        () -> listed(session),
        s -> s.getInteger("watchers") == 0);

    // re-attach: the kept frames again from 1, then the answer to a new prompt
    UmbraRun again =
        ok(
            admin,
            "agent-session",
            "attach",
            "local",
            session,
            "--from",
            "1",
            "--json",
            "--prompt",
            "again",
            "--until",
            "you said: again",
            "--for",
            "60");
    assertThat(texts(frames(again)))
        .startsWith("status:ready")
        .contains("output:you said: hello " + secret, "output:you said: again");

    // an approval the runtime asked for is given once; the replay is refused
    ok(
        admin,
        "agent-session",
        "attach",
        "local",
        session,
        "--prompt",
        "deploy",
        "--until",
        "deploy to prod",
        "--for",
        "60");
    UmbraRun approved =
        ok(
            laptop,
            "agent-session",
            "attach",
            "local",
            session,
            "--approve",
            "a1",
            "--until",
            "deploying now",
            "--for",
            "60",
            "--json");
    assertThat(texts(frames(approved))).contains("approval:", "output:deploying now");
    UmbraRun replayed =
        ok(
            admin,
            "agent-session",
            "attach",
            "local",
            session,
            "--approve",
            "a1",
            "--until",
            "replayed",
            "--for",
            "60",
            "--json");
    assertThat(frames(replayed))
        .anyMatch(
            f -> "notice".equals(f.getString("type")) && "replayed".equals(f.getString("code")));

    // the transcript, paged from the daemon
    UmbraRun page =
        ok(laptop, "agent-session", "transcript", "local", session, "--limit", "3", "--json");
    List<JsonObject> first = page.out().lines().map(JsonObject::new).toList();
    assertThat(first).hasSize(4);
    assertThat(first.subList(0, 3).stream().map(f -> f.getLong("seq")).toList())
        .containsExactly(1L, 2L, 3L);
    assertThat(first.get(3).getString("type")).isEqualTo("page");
    assertThat(first.get(3).getLong("next_seq")).isEqualTo(4L);
    assertThat(first.get(3).getBoolean("more")).isTrue();
    UmbraRun rest =
        ok(
            laptop,
            "agent-session",
            "transcript",
            "local",
            session,
            "--from",
            "4",
            "--limit",
            "3",
            "--all",
            "--json");
    List<JsonObject> all = new ArrayList<>(first.subList(0, 3));
    rest.out().lines().map(JsonObject::new).filter(f -> f.containsKey("seq")).forEach(all::add);
    assertThat(all.stream().mapToLong(f -> f.getLong("seq")).toArray())
        .as("every frame once, in order")
        .containsExactly(java.util.stream.LongStream.rangeClosed(1, all.size()).toArray());
    assertThat(texts(all))
        .contains(
            "prompt:hello " + secret, "output:you said: hello " + secret, "output:deploying now");

    // the end: the watcher that said bye gets the session's exit status as its own
    UmbraRun end =
        umbra(admin, "agent-session", "attach", "local", session, "--prompt", "bye", "--json");
    assertThat(end.code()).as(end.err()).isEqualTo(3);
    assertThat(frames(end))
        .anyMatch(f -> "exit".equals(f.getString("type")) && f.getInteger("code") == 3);
    assertThat(listed(session).getString("state")).isEqualTo("ended");

    // the run record: who (the start channel), runtime, machine, times, exit status, byte counts
    JsonObject record =
        Eventually.until(
                "the session's run record",
                Duration.ofSeconds(30),
                () ->
                    ok(admin, "runs", "list", "--json").array().stream()
                        .map(JsonObject.class::cast)
                        .filter(r -> "agent_session".equals(r.getString("kind")))
                        .findFirst(),
                java.util.Optional::isPresent)
            .orElseThrow();
    assertThat(record.getString("runtime")).isEqualTo("bot");
    assertThat(record.getInteger("exit_status")).isEqualTo(3);
    assertThat(record.getLong("bytes_in")).isPositive();
    assertThat(record.getLong("bytes_out")).isGreaterThan(record.getLong("bytes_in"));
    assertThat(java.time.OffsetDateTime.parse(record.getString("started_at")))
        .isBefore(java.time.OffsetDateTime.parse(record.getString("ended_at")));

    // the transcript is on the machine only: 0700 directory, 0600 files, with the canary
    Path dir =
        machine
            .resolve(AgentSessions.DIRECTORY)
            .resolve(relay.channels().get(0).target())
            .resolve(session);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)))
        .isEqualTo("rwx------");
    boolean inTranscript = false;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f)))
            .as(f.toString())
            .isEqualTo("rw-------");
        inTranscript |= Files.readString(f).contains(secret);
      }
    }
    assertThat(inTranscript).isTrue();

    // and nowhere else
    List<String> forms = CanaryScan.forms(secret);
    CanaryScan.Result pg = CanaryScan.postgres(h.pg, forms);
    assertThat(pg.scanned()).contains("control_plane.run_records");
    CanaryScan.Result redis = CanaryScan.redis(h.vertx, h.prefix, forms);
    assertThat(redis.scanned()).as("Redis keys of this run (audit ingest)").isNotEmpty();
    List<String> logLines =
        List.copyOf(logs.list).stream()
            .map(e -> e.getFormattedMessage() + " " + e.getKeyValuePairs())
            .toList();
    assertThat(logLines).as("log lines were recorded").isNotEmpty();
    List<String> found = new ArrayList<>(pg.found());
    found.addAll(redis.found());
    found.addAll(CanaryScan.lines("bus", busSeen, forms));
    found.addAll(CanaryScan.lines("log", logLines, forms));
    assertThat(found).as("places holding the canary").isEmpty();
  }
}
