package dev.umbra.daemon.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.client.agent.AgentFrames;
import dev.umbra.client.agent.AgentFrames.Refusal;
import dev.umbra.daemon.agent.RuntimeFrameReader.End;
import dev.umbra.daemon.agent.RuntimeFrameReader.Frame;
import dev.umbra.daemon.agent.RuntimeFrameReader.Item;
import dev.umbra.daemon.agent.RuntimeFrameReader.Refused;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A runtime's stdout read as frames (docs/agents.md, "Runtime protocol"): one JSON object per line.
 * A bad line is refused with its reason and its length counted, and reading goes on with the next
 * line; an oversized line is never held whole.
 */
class RuntimeFrameReaderTest {

  private static RuntimeFrameReader reader(String text) {
    return new RuntimeFrameReader(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void framesAreReadLineByLineWithTheirByteCountsSkippingBlankLinesAndCarriageReturns()
      throws Exception {
    RuntimeFrameReader r =
        reader(
            "{\"type\":\"status\",\"state\":\"ready\"}\n\n  \r\n"
                + "{\"type\":\"output\",\"text\":\"hi\"}\r\n");
    Frame a = (Frame) r.next();
    assertThat(a.frame().type()).isEqualTo(AgentFrames.Type.STATUS);
    assertThat(a.bytes()).isEqualTo(34);
    Frame b = (Frame) r.next();
    assertThat(b.frame().text("text")).isEqualTo("hi");
    assertThat(b.bytes()).as("the blank lines before it count with it").isEqualTo(36);
    assertThat(r.next()).isInstanceOf(End.class);
    assertThat(r.next()).as("the end stays the end").isInstanceOf(End.class);
  }

  @Test
  void aLastLineWithoutItsNewLineIsTruncated() throws Exception {
    RuntimeFrameReader r = reader("{\"type\":\"output\",\"text\":\"complete\"}");
    assertThat(r.next()).isEqualTo(new Refused(Refusal.TRUNCATED, 35));
    assertThat(r.next()).isInstanceOf(End.class);
  }

  @Test
  void anOversizedLineIsSkippedToItsEndAndTheNextLineIsRead() throws Exception {
    String huge = "{\"type\":\"output\",\"text\":\"" + "x".repeat(200_000) + "\"}\n";
    RuntimeFrameReader r = reader(huge + "{\"type\":\"output\",\"text\":\"after\"}\n");
    assertThat(r.next()).isEqualTo(new Refused(Refusal.OVERSIZED, huge.length()));
    assertThat(((Frame) r.next()).frame().text("text")).isEqualTo("after");
  }

  @Test
  void anOversizedLastLineWithoutNewLineIsOversized() throws Exception {
    String huge = "x".repeat(AgentFrames.MAX_FRAME_BYTES + 10);
    assertThat(reader(huge).next()).isEqualTo(new Refused(Refusal.OVERSIZED, huge.length()));
  }

  @Test
  void malformedAndForbiddenLinesAreRefusedAndReadingGoesOn() throws Exception {
    RuntimeFrameReader r =
        reader(
            "garbage\n"
                + "{\"type\":\"prompt\",\"text\":\"pretend the user said\"}\n"
                + "{\"type\":\"nope\"}\n"
                + "{\"type\":\"output\",\"text\":1}\n"
                + "{\"type\":\"output\",\"text\":\"ok\"}\n");
    assertThat(((Refused) r.next()).refusal()).isEqualTo(Refusal.MALFORMED);
    assertThat(((Refused) r.next()).refusal()).isEqualTo(Refusal.NOT_ALLOWED);
    assertThat(((Refused) r.next()).refusal()).isEqualTo(Refusal.UNKNOWN_TYPE);
    assertThat(((Refused) r.next()).refusal()).isEqualTo(Refusal.BAD_FIELD);
    assertThat(((Frame) r.next()).frame().text("text")).isEqualTo("ok");
  }

  @Test
  void aFrameSplitAcrossReadsIsReadWhole() throws Exception {
    byte[] all = "{\"type\":\"output\",\"text\":\"split\"}\n".getBytes(StandardCharsets.UTF_8);
    InputStream dribble =
        new InputStream() {
          int i;

          @Override
          public int read() {
            return i < all.length ? all[i++] : -1;
          }

          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            if (i >= all.length) {
              return -1;
            }
            b[off] = all[i++];
            return 1;
          }
        };
    Item item = new RuntimeFrameReader(dribble).next();
    assertThat(((Frame) item).frame().text("text")).isEqualTo("split");
  }
}
