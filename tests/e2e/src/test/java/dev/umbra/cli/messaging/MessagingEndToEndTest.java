package dev.umbra.cli.messaging;

import static dev.umbra.cli.CliHarness.ok;
import static dev.umbra.cli.CliHarness.umbra;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.CliHarness;
import dev.umbra.cli.Traces;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Owner ↔ agent messaging through the real `umbra` commands (docs/messaging.md, "Clients") against
 * a real control plane on PostgreSQL and Redis: an admin whose CLI is a trusted device, a machine
 * paired with `umbra daemon pair`, an agent enrolled there and approved by code. The tests share
 * that set-up and run in order.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MessagingEndToEndTest {
  static final String BOOTSTRAP = "bootstrap-token-for-the-messaging-test-0123456789";
  CliHarness h;
  Path admin;
  Path machine;
  String ws;
  String agentId;
  String account;
  Traces traces;

  @BeforeAll
  void start() throws Exception {
    traces = Traces.keepLogs();
    h = CliHarness.start("msg", BOOTSTRAP, ServiceName.PAIRING);
    traces.watch(h);
    admin = h.trustedOwner();
    machine = h.tmp.resolve("machine");
    h.pairMachine(admin, machine);
    JsonObject enrolled = CliHarness.enrolAgent(machine, "bot");
    agentId = enrolled.getString("agent_id");
    ws = enrolled.getString("workspace_id");
    assertThat(umbra(admin, "agents", "approve", agentId, "--code", "AAAA-AAAA-AAAA-AAAA").code())
        .isEqualTo(1);
    assertThat(ok(admin, "agents", "list", "--json").array().getJsonObject(0).getString("status"))
        .isEqualTo("pending");
    CliHarness.approveAgent(admin, "bot", enrolled);
    // the agent's first run after approval publishes its prekeys
    assertThat(ok(machine, "agent", "recv").out()).contains("(no new messages)");
  }

  @AfterAll
  void stop() throws Exception {
    traces.close();
    h.close();
  }

  static String canary() {
    return Traces.canary("msg");
  }

  @Test
  @Order(1)
  void ownerToAgentToOwnerRoundTripShowsEachMessageOnceAndTheCanaryNeverReachesTheServer()
      throws Exception {
    String toAgent = canary();
    String toOwner = canary();
    ok(admin, "msg", "send", "bot", toAgent);
    JsonArray got = ok(machine, "agent", "recv", "--json").array();
    assertThat(got).hasSize(1);
    assertThat(got.getJsonObject(0).getString("text")).isEqualTo(toAgent);
    account = got.getJsonObject(0).getString("account_id");
    assertThat(account).isNotNull();
    assertThat(ok(machine, "agent", "recv", "--json").array()).isEmpty();

    ok(machine, "agent", "send", account, toOwner);
    UmbraRun read = ok(admin, "msg", "read");
    assertThat(read.out()).contains("bot: " + toOwner);
    assertThat(ok(admin, "msg", "read", "--json").array()).isEmpty();

    // a second round on the established sessions (ratchet messages, not initial ones)
    ok(admin, "msg", "send", agentId, "second " + toAgent);
    assertThat(ok(machine, "agent", "recv").out()).contains("second " + toAgent);
    ok(machine, "agent", "send", account, "second " + toOwner);
    assertThat(ok(admin, "msg", "read", "bot", "--json").array().getJsonObject(0).getString("text"))
        .isEqualTo("second " + toOwner);

    assertThat(leaks(toAgent, toOwner)).isEmpty();
    assertThat(traces.busSeen()).as("audit events crossed the bus").isNotEmpty();
    assertThat(traces.logLines()).as("the services logged").isNotEmpty();
    // the copies' ciphertexts cross the bus in notices (never the plaintext, above), and only in
    // notices whose MAC holds for their channel (docs/messaging.md, "Notices on the bus")
    assertThat(traces.messageNotices())
        .as("the four copies' notices")
        .hasSizeGreaterThanOrEqualTo(4);
    assertThat(traces.messageNotices()).allSatisfy(n -> assertThat(n.getValue()).isTrue());
  }

  @Test
  @Order(2)
  void tamperedAndReplayedCopiesInjectedIntoTheStoreAreRefusedAndNeverShown() throws Exception {
    String first = canary();
    String tampered = canary();
    ok(admin, "msg", "send", "bot", first);
    String replayId = UUID.randomUUID().toString();
    assertThat(
            sql(
                "INSERT INTO control_plane.messages (workspace_id, id, conversation_id, sender_kind, sender_id, recipient_kind,"
                    + " recipient_id, ciphertext, created_at) SELECT workspace_id, '"
                    + replayId
                    + "'::uuid, conversation_id, sender_kind, sender_id, recipient_kind, recipient_id, ciphertext,"
                    + " created_at FROM control_plane.messages WHERE recipient_id = '"
                    + agentId
                    + "'::uuid"))
        .isEqualTo(1);
    UmbraRun r = ok(machine, "agent", "recv", "--json");
    assertThat(r.array()).hasSize(1);
    assertThat(r.array().getJsonObject(0).getString("text")).isEqualTo(first);
    assertThat(r.err())
        .contains("message " + replayId + " refused: REPLAYED")
        .contains("not shown");

    ok(admin, "msg", "send", "bot", tampered);
    assertThat(
            sql(
                "UPDATE control_plane.messages SET ciphertext = set_byte(ciphertext, length(ciphertext) - 1,"
                    + " get_byte(ciphertext, length(ciphertext) - 1) # 1) WHERE recipient_id = '"
                    + agentId
                    + "'::uuid"))
        .isEqualTo(1);
    UmbraRun t = ok(machine, "agent", "recv", "--json");
    assertThat(t.array()).isEmpty();
    assertThat(t.out()).doesNotContain(tampered);
    assertThat(t.err()).contains("refused: BAD_TAG");
    assertThat(count("SELECT count(*) FROM control_plane.messages"))
        .as("refused copies are acknowledged")
        .isZero();
  }

  @Test
  @Order(3)
  void agentRunServesPlaintextOnlyOverItsLocalSocketAndReceivesLive() throws Exception {
    Path sock = machine.resolve("agent").resolve(ws).resolve("agent.sock");
    Thread run = Thread.ofVirtual().start(() -> umbra(machine, "agent", "run", "--for", "40"));
    Eventually.await("the socket is served", Duration.ofSeconds(30), () -> Files.exists(sock));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)))
        .isEqualTo("rw-------");
    String live = canary();
    try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
      OutputStream out = Channels.newOutputStream(c);
      assertThat(ask(in, out, "{\"op\":\"nope\"}").getString("error")).isEqualTo("unknown_op");
      ok(admin, "msg", "send", "bot", live);
      JsonObject[] got = new JsonObject[1];
      Eventually.await(
          "the agent received it live",
          Duration.ofSeconds(20),
          () -> {
            got[0] = ask(in, out, "{\"op\":\"recv\"}");
            return !got[0].getJsonArray("messages").isEmpty();
          });
      JsonObject m = got[0].getJsonArray("messages").getJsonObject(0);
      assertThat(m.getString("text")).isEqualTo(live);
      assertThat(m.getString("account_id")).isEqualTo(account);
      assertThat(ask(in, out, "{\"op\":\"recv\"}").getJsonArray("messages")).hasSize(1);
      assertThat(
              ask(in, out, "{\"op\":\"ack\",\"id\":\"" + m.getString("id") + "\"}")
                  .getBoolean("ok"))
          .isTrue();
      assertThat(ask(in, out, "{\"op\":\"recv\"}").getJsonArray("messages")).isEmpty();
      JsonObject sent =
          ask(
              in,
              out,
              new JsonObject()
                  .put("op", "send")
                  .put("to", account)
                  .put("text", "re: " + live)
                  .encode());
      assertThat(sent.getBoolean("ok")).as(sent.encode()).isTrue();
      batches(in, out, live);
    }
    assertThat(ok(admin, "msg", "read").out())
        .contains("bot: re: " + live, "bot: many 1 " + live, "bot: many 2 " + live);
    run.join(Duration.ofSeconds(60));
    assertThat(leaks(live)).isEmpty();
  }

  /**
   * Several messages a request both ways (docs/messaging.md, "Batches"): the owner's {@code msg
   * send --lines}, received live by {@code agent run} (in {@code messages} frames) in order, each
   * once; the agent's {@code send_many} over its socket.
   */
  void batches(BufferedReader in, OutputStream out, String live) {
    String lines = "line 1 " + live + "\n\nline 2 " + live + "\nline 3 " + live + "\n";
    JsonObject sent =
        new JsonObject(ok(admin, "msg", "send", "bot", lines, "--lines", "--json").out());
    assertThat(sent.getJsonArray("ids")).hasSize(3);
    List<String> texts = new java.util.ArrayList<>();
    Eventually.await(
        "the three arrived live",
        Duration.ofSeconds(20),
        () -> {
          texts.clear();
          ask(in, out, "{\"op\":\"recv\"}")
              .getJsonArray("messages")
              .forEach(m -> texts.add(((JsonObject) m).getString("text")));
          return texts.size() >= 3;
        });
    assertThat(texts).containsExactly("line 1 " + live, "line 2 " + live, "line 3 " + live);
    JsonObject recv = ask(in, out, "{\"op\":\"recv\"}");
    recv.getJsonArray("messages")
        .forEach(
            m ->
                assertThat(
                        ask(
                                in,
                                out,
                                "{\"op\":\"ack\",\"id\":\""
                                    + ((JsonObject) m).getString("id")
                                    + "\"}")
                            .getBoolean("ok"))
                    .isTrue());
    JsonObject many =
        ask(
            in,
            out,
            new JsonObject()
                .put("op", "send_many")
                .put("to", account)
                .put("texts", new JsonArray().add("many 1 " + live).add("many 2 " + live))
                .encode());
    assertThat(many.getBoolean("ok")).as(many.encode()).isTrue();
    assertThat(many.getJsonArray("ids")).hasSize(2);
  }

  static JsonObject ask(BufferedReader in, OutputStream out, String line) {
    try {
      out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      return new JsonObject(in.readLine());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  @Order(4)
  void watchShowsEachMessageOnceAcrossReconnectsAndRedeliveries() throws Exception {
    String a = canary();
    String b = canary();
    ok(machine, "agent", "send", account, a);
    sql(
        "CREATE TABLE public.redeliver AS SELECT * FROM control_plane.messages WHERE sender_id = '"
            + agentId
            + "'::uuid");
    UmbraRun first = ok(admin, "msg", "watch", "--count", "1", "--json");
    assertThat(first.out()).contains(a);
    assertThat(first.err()).contains("connected");
    // the same copy again (an ack the server lost): shown before, so acked and not shown again
    sql("INSERT INTO control_plane.messages SELECT * FROM public.redeliver");
    sql("DROP TABLE public.redeliver");
    ok(machine, "agent", "send", account, b);
    UmbraRun second = ok(admin, "msg", "watch", "--count", "1", "--json");
    assertThat(second.out()).contains(b).doesNotContain(a);
    assertThat(second.out().lines().filter(l -> !l.isBlank()).count()).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM control_plane.messages")).isZero();
  }

  @Test
  @Order(5)
  void bothTrustedDevicesOfTheOwnerReceiveTheAgentsMessage() throws Exception {
    Path laptop = h.trustedSecond(admin, "laptop", "dev");
    assertThat(ok(laptop, "msg", "read").out()).contains("(no new messages)"); // publishes prekeys
    String both = canary();
    ok(machine, "agent", "send", account, both);
    assertThat(ok(admin, "msg", "read").out()).contains("bot: " + both);
    assertThat(ok(laptop, "msg", "read").out()).contains("bot: " + both);
    ok(laptop, "msg", "send", "bot", "from the laptop " + both);
    assertThat(ok(machine, "agent", "recv").out()).contains("from the laptop " + both);
    assertThat(leaks(both)).isEmpty();
  }

  @Test
  @Order(6)
  void aRevokedAgentCanNeitherReceiveNorBeWrittenTo() throws Exception {
    Path sock = machine.resolve("agent").resolve(ws).resolve("agent.sock");
    Files.deleteIfExists(sock); // served again only once this run has its session
    AtomicReference<UmbraRun> running = new AtomicReference<>();
    Thread.ofVirtual().start(() -> running.set(umbra(machine, "agent", "run", "--for", "120")));
    Eventually.await("the socket is served", Duration.ofSeconds(30), () -> Files.exists(sock));
    ok(admin, "agents", "revoke", "bot");
    // before: it polled its revoked session every 15 s ("fetch failed") until --for ran out
    Eventually.await(
        "agent run stops once its session is refused",
        Duration.ofSeconds(60),
        () -> running.get() != null);
    assertThat(running.get().code()).isEqualTo(1);
    assertThat(running.get().err()).contains("refused this agent a session").contains("stopped");
    UmbraRun recv = umbra(machine, "agent", "recv");
    assertThat(recv.code()).isEqualTo(1);
    assertThat(recv.err()).contains("refused this agent a session").contains("revoked");
    UmbraRun send = umbra(admin, "msg", "send", agentId, "after revocation");
    assertThat(send.code()).isEqualTo(1);
    assertThat(send.err()).as("by id").contains("agent 'bot' was revoked");
    UmbraRun byName = umbra(admin, "msg", "send", "bot", "after revocation");
    assertThat(byName.code()).isEqualTo(1);
    assertThat(byName.err())
        .as("by name: not \"no agent\", which `agents list` contradicts")
        .contains("agent 'bot' was revoked")
        .doesNotContain("no agent");
  }

  int sql(String statement) throws Exception {
    try (Connection c = h.pg.ownerConnection();
        Statement st = c.createStatement()) {
      return st.executeUpdate(statement);
    }
  }

  long count(String query) throws Exception {
    try (Connection c = h.pg.ownerConnection();
        PreparedStatement st = c.prepareStatement(query);
        ResultSet rs = st.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * Where {@code canaries} show (text, hex, base64): every table (the scan reads the messaging
   * tables), Redis key and value, bus message, log line.
   */
  List<String> leaks(String... canaries) throws Exception {
    assertThat(h.pg.rowsAsText().keySet()).anyMatch(t -> t.endsWith(".message_ids"));
    return traces.anywhere(canaries);
  }
}
