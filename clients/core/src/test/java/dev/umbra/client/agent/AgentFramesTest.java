package dev.umbra.client.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.client.agent.AgentFrames.FrameException;
import dev.umbra.client.agent.AgentFrames.Refusal;
import dev.umbra.client.agent.AgentFrames.Source;
import dev.umbra.client.agent.AgentFrames.Type;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The agent session frame format (docs/agents.md, "Session frames") as every reader admits it: a
 * runtime's line, a client's prompt, the daemon's numbered frames. Truncated, oversized, malformed,
 * out-of-place and replayed frames are refused with their reason and never half-read.
 */
class AgentFramesTest {

  private static AgentFrame parse(String json, Source from) throws FrameException {
    return AgentFrames.parse(json.getBytes(StandardCharsets.UTF_8), from);
  }

  private static Refusal refusal(String json, Source from) {
    return refusal(json.getBytes(StandardCharsets.UTF_8), from);
  }

  private static Refusal refusal(byte[] bytes, Source from) {
    try {
      AgentFrames.parse(bytes, from);
    } catch (FrameException e) {
      return e.refusal();
    }
    throw new AssertionError("admitted");
  }

  @Test
  void aRuntimesFramesAreAdmittedWithTheMembersTheirTypeDefinesOnly() throws Exception {
    AgentFrame f =
        parse(
            "{\"type\":\"tool_call\",\"id\":\"t1\",\"name\":\"grep\",\"input\":\"-r x\","
                + "\"seq\":99,\"extra\":{\"a\":1}}",
            Source.RUNTIME);
    assertThat(f.type()).isEqualTo(Type.TOOL_CALL);
    assertThat(f.seq()).as("a runtime does not number frames").isZero();
    assertThat(f.json().fieldNames()).containsExactlyInAnyOrder("type", "id", "name", "input");
    assertThat(parse("{\"type\":\"output\",\"text\":\"hi\"}", Source.RUNTIME).text("text"))
        .isEqualTo("hi");
    assertThat(
            parse("{\"type\":\"tool_result\",\"id\":\"t1\",\"error\":true}", Source.RUNTIME)
                .json()
                .getBoolean("error"))
        .isTrue();
    assertThat(AgentFrames.fromRuntime())
        .containsExactlyInAnyOrder(
            Type.STATUS,
            Type.OUTPUT,
            Type.TOOL_CALL,
            Type.TOOL_RESULT,
            Type.APPROVAL_REQUEST,
            Type.INBOX_REQUEST);
  }

  private static Refusal refusalOrNull(String json) {
    try {
      parse(json, Source.RUNTIME);
      return null;
    } catch (FrameException e) {
      return e.refusal();
    }
  }

  @Test
  void aRuntimesInboxRequestIsAdmittedWithinTheInboxBoundsAndItsAnswersComeFromTheDaemonOnly()
      throws Exception {
    AgentFrame f =
        parse(
            "{\"type\":\"inbox_request\",\"id\":\"q1\",\"kind\":\"choose\",\"question\":\"which?\","
                + "\"options\":[\"a\",\"b\"],\"default\":\"b\",\"deadline_seconds\":60,\"team_ids\":[]}",
            Source.RUNTIME);
    assertThat(f.type()).isEqualTo(Type.INBOX_REQUEST);
    assertThat(f.json().fieldNames())
        .as("the runtime names no teams: the item goes to the machine's")
        .containsExactlyInAnyOrder(
            "type", "id", "kind", "question", "options", "default", "deadline_seconds");
    String ok =
        "{\"type\":\"inbox_request\",\"id\":\"q1\",\"kind\":\"approve\",\"question\":\"go?\","
            + "\"default\":\"deny\",\"deadline_seconds\":60}";
    assertThat(parse(ok, Source.RUNTIME).json().getJsonArray("options")).isEmpty();
    assertThat(refusal(ok.replace("approve", "vote"), Source.RUNTIME)).isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal(ok.replace(":60", ":9"), Source.RUNTIME)).isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal(ok.replace(":60", ":604801"), Source.RUNTIME)).isEqualTo(Refusal.BAD_FIELD);
    assertThat(
            refusal(ok.replace("go?", "x".repeat(AgentFrames.MAX_INBOX_TEXT + 1)), Source.RUNTIME))
        .isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal(ok.replace("\"default\"", "\"options\":[1],\"default\""), Source.RUNTIME))
        .isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal(ok.replace(",\"default\":\"deny\"", ""), Source.RUNTIME))
        .isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal(ok, Source.CLIENT)).isEqualTo(Refusal.NOT_ALLOWED);

    String decision =
        "{\"type\":\"inbox_decision\",\"id\":\"q1\",\"status\":\"decided\",\"answer\":\"a\"}";
    String raised =
        "{\"type\":\"inbox_raised\",\"id\":\"q1\",\"item_id\":\"0b7c6a8e-3f1d-4c2a-9e5b-7d8f1a2b3c4d\"}";
    for (String d : List.of(decision, raised)) {
      assertThat(refusal(d, Source.RUNTIME))
          .as("a runtime never decides")
          .isEqualTo(Refusal.NOT_ALLOWED);
      assertThat(refusal(d, Source.CLIENT)).isEqualTo(Refusal.NOT_ALLOWED);
      assertThat(parse(d.replace("{", "{\"seq\":4,"), Source.DAEMON).seq()).isEqualTo(4);
    }
    assertThat(
            refusal(decision.replace("{", "{\"seq\":4,").replace("decided", "won"), Source.DAEMON))
        .isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal(raised.replace("{", "{\"seq\":4,").replace("0b7c", "ZZZZ"), Source.DAEMON))
        .isEqualTo(Refusal.BAD_FIELD);
  }

  @Test
  void aFrameOverTheLimitIsRefusedBeforeItIsDecoded() {
    byte[] big = new byte[AgentFrames.MAX_FRAME_BYTES + 1];
    java.util.Arrays.fill(big, (byte) '{');
    assertThat(refusal(big, Source.RUNTIME)).isEqualTo(Refusal.OVERSIZED);
    String justFits =
        "{\"type\":\"output\",\"text\":\"" + "a".repeat(AgentFrames.MAX_FRAME_BYTES - 27) + "\"}";
    assertThat(justFits.length()).isEqualTo(AgentFrames.MAX_FRAME_BYTES);
    assertThat(refusalOrNull(justFits)).as("the limit itself is admitted").isNull();
    assertThat(refusal(justFits + " ", Source.RUNTIME)).isEqualTo(Refusal.OVERSIZED);
  }

  @Test
  void aTruncatedFrameIsRefusedAsTruncated() {
    assertThat(refusal("{\"type\":\"output\",\"text\":\"hal", Source.RUNTIME))
        .isEqualTo(Refusal.TRUNCATED);
    assertThat(refusal("{\"type\":\"output\"", Source.CLIENT)).isEqualTo(Refusal.TRUNCATED);
  }

  @Test
  void malformedBytesAreRefused() {
    assertThat(refusal("not json", Source.RUNTIME)).isEqualTo(Refusal.MALFORMED);
    assertThat(refusal("[1,2]", Source.RUNTIME)).isEqualTo(Refusal.MALFORMED);
    assertThat(refusal("{\"type\":\"output\",}", Source.RUNTIME)).isEqualTo(Refusal.MALFORMED);
    assertThat(refusal(new byte[] {'{', (byte) 0xC3, '}'}, Source.RUNTIME))
        .as("not UTF-8")
        .isEqualTo(Refusal.MALFORMED);
    assertThat(refusal("", Source.CLIENT)).isEqualTo(Refusal.MALFORMED);
  }

  @Test
  void aTypeMustBeKnownAndAllowedFromItsSender() {
    assertThat(refusal("{\"type\":\"shell\",\"text\":\"rm\"}", Source.RUNTIME))
        .isEqualTo(Refusal.UNKNOWN_TYPE);
    assertThat(refusal("{\"text\":\"x\"}", Source.RUNTIME)).isEqualTo(Refusal.UNKNOWN_TYPE);
    assertThat(refusal("{\"type\":\"prompt\",\"text\":\"x\"}", Source.RUNTIME))
        .as("a runtime cannot forge a user's prompt")
        .isEqualTo(Refusal.NOT_ALLOWED);
    assertThat(refusal("{\"type\":\"exit\",\"code\":0}", Source.RUNTIME))
        .isEqualTo(Refusal.NOT_ALLOWED);
    assertThat(refusal("{\"type\":\"output\",\"text\":\"x\"}", Source.CLIENT))
        .as("a client cannot speak for the runtime")
        .isEqualTo(Refusal.NOT_ALLOWED);
  }

  @Test
  void membersAreCheckedForTypeAndBounds() {
    assertThat(refusal("{\"type\":\"output\",\"text\":5}", Source.RUNTIME))
        .isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal("{\"type\":\"output\"}", Source.RUNTIME)).isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal("{\"type\":\"status\",\"state\":\"Not A Code\"}", Source.RUNTIME))
        .isEqualTo(Refusal.BAD_FIELD);
    assertThat(
            refusal(
                "{\"type\":\"tool_call\",\"id\":\"" + "x".repeat(129) + "\",\"name\":\"n\"}",
                Source.RUNTIME))
        .isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal("{\"type\":\"approval\",\"id\":\"a\",\"answer\":\"yes\"}", Source.CLIENT))
        .isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal("{\"type\":\"output\",\"text\":\"x\"}", Source.DAEMON))
        .as("the daemon's session frames are numbered")
        .isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal("{\"type\":\"exit\",\"seq\":3,\"code\":256}", Source.DAEMON))
        .isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal("{\"type\":\"page\",\"next_seq\":0,\"more\":true}", Source.DAEMON))
        .isEqualTo(Refusal.BAD_FIELD);
    assertThat(refusal("{\"type\":\"output\",\"text\":\"\\ud800 lone\"}", Source.RUNTIME))
        .as("a lone surrogate cannot be sent on as UTF-8")
        .isEqualTo(Refusal.BAD_FIELD);
  }

  @Test
  void aNumberedFrameRoundTripsAndAReplayedOneIsRefusedByTheWatchersSequence() throws Exception {
    AgentFrame out = parse("{\"type\":\"output\",\"text\":\"x\"}", Source.RUNTIME).numbered(7);
    AgentFrame back = AgentFrames.parse(out.bytes(), Source.DAEMON);
    assertThat(back).isEqualTo(out);
    AgentFrames.Sequence seen = new AgentFrames.Sequence(6);
    seen.admit(back);
    assertThatThrownBy(() -> seen.admit(back))
        .isInstanceOfSatisfying(
            FrameException.class, e -> assertThat(e.refusal()).isEqualTo(Refusal.REPLAYED));
    assertThatThrownBy(() -> seen.admit(out.numbered(5)))
        .isInstanceOfSatisfying(
            FrameException.class, e -> assertThat(e.refusal()).isEqualTo(Refusal.REPLAYED));
    seen.admit(out.numbered(10));
    assertThat(seen.last()).as("a step over numbers is allowed").isEqualTo(10);
    assertThatThrownBy(
            () -> seen.admit(AgentFrames.of(Type.NOTICE, new JsonObject().put("code", "busy"))))
        .as("only numbered session frames are in the sequence")
        .isInstanceOf(FrameException.class);
  }

  @Test
  void aClientsPromptAndApprovalAreAdmitted() throws Exception {
    assertThat(parse("{\"type\":\"prompt\",\"text\":\"go\"}", Source.CLIENT).text("text"))
        .isEqualTo("go");
    AgentFrame a =
        parse("{\"type\":\"approval\",\"id\":\"a1\",\"answer\":\"deny\"}", Source.CLIENT);
    assertThat(a.json().fieldNames()).containsExactlyInAnyOrder("type", "id", "answer");
  }
}
