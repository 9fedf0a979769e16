package dev.umbra.client.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.client.messaging.AgentProtocol.ProtocolException;
import dev.umbra.client.messaging.AgentProtocol.Refusal;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The agent socket's JSON-lines protocol: requests, refusals, framing (docs/messaging.md). */
class AgentProtocolTest {
  static final UUID ID = UUID.fromString("0b6f3c55-2a3e-4c8e-9a43-3f1f0f0f0f0f");

  static AgentProtocol.Request parse(String line) throws ProtocolException {
    return AgentProtocol.parse(line.getBytes(StandardCharsets.UTF_8));
  }

  static Refusal refusal(String line) {
    try {
      parse(line);
    } catch (ProtocolException e) {
      return e.refusal();
    }
    throw new AssertionError("accepted: " + line);
  }

  @Test
  void theThreeRequestsParse() throws Exception {
    assertThat(parse("{\"op\":\"recv\"}")).isEqualTo(new AgentProtocol.Recv());
    assertThat(parse("{\"op\":\"send\",\"to\":\"" + ID + "\",\"text\":\"hi \\u00e9\"}"))
        .isEqualTo(new AgentProtocol.Send(ID, "hi é"));
    assertThat(parse(" {\"id\":\"" + ID + "\", \"op\":\"ack\"} "))
        .isEqualTo(new AgentProtocol.Ack(ID));
  }

  @Test
  void anAckOfSeveralIdsParsesInOrderAndABadOneIsRefusedWithItsReason() throws Exception {
    UUID other = UUID.randomUUID();
    assertThat(parse("{\"op\":\"ack\",\"ids\":[\"" + ID + "\",\"" + other + "\"]}"))
        .isEqualTo(new AgentProtocol.Ack(List.of(ID, other)));
    assertThat(refusal("{\"op\":\"ack\"}")).isEqualTo(Refusal.MISSING_FIELD);
    assertThat(refusal("{\"op\":\"ack\",\"id\":\"" + ID + "\",\"ids\":[\"" + ID + "\"]}"))
        .as("both")
        .isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal("{\"op\":\"ack\",\"ids\":[]}")).isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal("{\"op\":\"ack\",\"ids\":\"" + ID + "\"}")).isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal("{\"op\":\"ack\",\"ids\":[\"" + ID + "\",7]}")).isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal("{\"op\":\"ack\",\"ids\":[\"1-1-1-1-1\"]}")).isEqualTo(Refusal.BAD_FIELD);
    String many = "[" + ("\"" + ID + "\",").repeat(AgentProtocol.MAX_ACK_IDS) + "\"" + ID + "\"]";
    assertThat(refusal("{\"op\":\"ack\",\"ids\":" + many + "}"))
        .as("201 ids")
        .isEqualTo(Refusal.BAD_FIELD);
  }

  @Test
  void sendManyParsesItsTextsInOrderAndRefusesABadListWithItsReason() throws Exception {
    String head = "{\"op\":\"send_many\",\"to\":\"" + ID + "\",\"texts\":";
    assertThat(parse(head + "[\"one\",\"two \\u00e9\"]}"))
        .isEqualTo(new AgentProtocol.SendMany(ID, List.of("one", "two é")));
    assertThat(refusal("{\"op\":\"send_many\",\"to\":\"" + ID + "\"}"))
        .isEqualTo(Refusal.MISSING_FIELD);
    assertThat(refusal(head + "[]}")).isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal(head + "\"one\"}")).isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal(head + "[\"a\",7]}")).isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal(head + "[\"a\",\"\"]}")).isEqualTo(Refusal.TEXT_TOO_LARGE);
    assertThat(refusal(head + "[\"a\"],\"text\":\"b\"}")).isEqualTo(Refusal.BAD_FIELD);
    String many = "[" + "\"a\",".repeat(AgentProtocol.MAX_TEXTS) + "\"a\"]";
    assertThat(refusal(head + many + "}")).as("65 texts").isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal(head + "[\"" + "a".repeat(MessagingClient.MAX_TEXT_BYTES + 1) + "\"]}"))
        .isEqualTo(Refusal.TEXT_TOO_LARGE);
  }

  @Test
  void malformedLinesAreRefusedWithTheirReason() {
    assertThat(refusal("")).isEqualTo(Refusal.MALFORMED_JSON);
    assertThat(refusal("{\"op\":\"recv\"")).isEqualTo(Refusal.MALFORMED_JSON);
    assertThat(refusal("[\"recv\"]")).isEqualTo(Refusal.MALFORMED_JSON);
    assertThat(refusal("{\"op\":\"recv\",\"op\":\"recv\"}")).isEqualTo(Refusal.MALFORMED_JSON);
    assertThat(refusal("{}")).isEqualTo(Refusal.MISSING_FIELD);
    assertThat(refusal("{\"op\":1}")).isEqualTo(Refusal.MISSING_FIELD);
    assertThat(refusal("{\"op\":\"delete\"}")).isEqualTo(Refusal.UNKNOWN_OP);
    assertThatThrownBy(() -> parse("{\"op\":\"delete\"}"))
        .as("the refusal names the ops there are")
        .hasMessageContaining("expected recv, send, send_many or ack");
    assertThat(refusal("{\"op\":\"recv\",\"all\":true}")).isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal("{\"op\":\"send\",\"to\":\"" + ID + "\"}")).isEqualTo(Refusal.MISSING_FIELD);
    assertThat(refusal("{\"op\":\"send\",\"to\":\"x\",\"text\":\"a\"}"))
        .isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal("{\"op\":\"send\",\"to\":\"" + ID + "\",\"text\":7}"))
        .isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal("{\"op\":\"send\",\"to\":\"" + ID + "\",\"text\":\"\"}"))
        .isEqualTo(Refusal.TEXT_TOO_LARGE);
    assertThat(
            refusal(
                "{\"op\":\"send\",\"to\":\""
                    + ID
                    + "\",\"text\":\""
                    + "a".repeat(MessagingClient.MAX_TEXT_BYTES + 1)
                    + "\"}"))
        .isEqualTo(Refusal.TEXT_TOO_LARGE);
    assertThat(refusal("{\"op\":\"ack\",\"id\":\"1-1-1-1-1\"}")).isEqualTo(Refusal.BAD_FIELD);
    assertThatThrownBy(() -> AgentProtocol.parse(new byte[] {'{', (byte) 0xC3, '}'}))
        .isInstanceOfSatisfying(
            ProtocolException.class, e -> assertThat(e.refusal()).isEqualTo(Refusal.NOT_UTF8));
  }

  @Test
  void framingRefusesOversizedAndTruncatedLines() throws Exception {
    byte[] huge =
        ("{\"op\":\"" + "a".repeat(AgentProtocol.MAX_LINE) + "\"}\n")
            .getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> AgentProtocol.readLine(new ByteArrayInputStream(huge)))
        .isInstanceOfSatisfying(
            ProtocolException.class, e -> assertThat(e.refusal()).isEqualTo(Refusal.TOO_LONG));
    assertThatThrownBy(
            () ->
                AgentProtocol.readLine(
                    new ByteArrayInputStream("{\"op\"".getBytes(StandardCharsets.UTF_8))))
        .isInstanceOfSatisfying(
            ProtocolException.class, e -> assertThat(e.refusal()).isEqualTo(Refusal.TRUNCATED));
    assertThat(AgentProtocol.readLine(new ByteArrayInputStream(new byte[0]))).isNull();
  }

  @Test
  void aServedConnectionAnswersEveryLineAndEndsAfterAFramingError() throws Exception {
    List<AgentProtocol.Request> seen = new ArrayList<>();
    String input =
        "{\"op\":\"recv\"}\n{\"op\":\"bogus\"}\n{\"op\":\"ack\",\"id\":\""
            + ID
            + "\"}\n{\"op\":\"recv\"";
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AgentSocket.serve(
        new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)),
        out,
        r -> {
          seen.add(r);
          return AgentProtocol.ok(new JsonObject());
        });
    List<JsonObject> answers =
        out.toString(StandardCharsets.UTF_8).lines().map(JsonObject::new).toList();
    assertThat(seen).containsExactly(new AgentProtocol.Recv(), new AgentProtocol.Ack(ID));
    assertThat(answers).hasSize(4);
    assertThat(answers.get(1).getString("error")).isEqualTo("unknown_op");
    assertThat(answers.get(3).getString("error")).isEqualTo("truncated");
  }

  @Test
  void aFailingHandlerIsAnsweredNotFatal() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AgentSocket.serve(
        new ByteArrayInputStream(
            "{\"op\":\"recv\"}\n{\"op\":\"recv\"}\n".getBytes(StandardCharsets.UTF_8)),
        out,
        r -> {
          throw new IllegalStateException("control plane unreachable");
        });
    assertThat(
            out.toString(StandardCharsets.UTF_8)
                .lines()
                .map(JsonObject::new)
                .map(j -> j.getString("error")))
        .containsExactly("failed", "failed");
  }
}
