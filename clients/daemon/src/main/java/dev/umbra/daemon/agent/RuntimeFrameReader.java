package dev.umbra.daemon.agent;

import dev.umbra.client.agent.AgentFrame;
import dev.umbra.client.agent.AgentFrames;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Reads a runtime's stdout as frames (docs/agents.md, "Runtime protocol"): one JSON object per line
 * (new line {@code \n}; a {@code \r} before it is allowed), each at most {@link
 * AgentFrames#MAX_FRAME_BYTES}. Never holds more than one frame's bytes: a longer line is skipped
 * to its end and reported as oversized, a last line without its new line as truncated, anything
 * else {@link AgentFrames#parse} refuses as it says. Blank lines are skipped (their bytes count
 * with the next item). Not thread-safe (the runtime's reader thread).
 */
public final class RuntimeFrameReader {
  /** What one read gave: a frame, a refusal, or the end of the runtime's output. */
  public sealed interface Item permits Frame, Refused, End {}

  /** A frame and how many bytes its line took (new line included). */
  public record Frame(AgentFrame frame, int bytes) implements Item {}

  /** A line refused, with its length in bytes (new line included). */
  public record Refused(AgentFrames.Refusal refusal, long bytes) implements Item {}

  /** The runtime closed its stdout. */
  public record End() implements Item {}

  private final InputStream in;
  private final byte[] buf = new byte[8192];
  private int pos;
  private int limit;
  private final byte[] line = new byte[AgentFrames.MAX_FRAME_BYTES + 1];

  public RuntimeFrameReader(InputStream in) {
    this.in = in;
  }

  /** The next item (blocking). */
  public Item next() throws IOException {
    long total = 0; // blank lines skipped count with the next item
    while (true) {
      int length = 0;
      boolean overflow = false;
      while (true) {
        if (pos == limit) {
          limit = in.read(buf);
          pos = 0;
          if (limit <= 0) {
            limit = 0;
            if (length == 0 && !overflow) {
              return new End();
            }
            return new Refused(
                overflow ? AgentFrames.Refusal.OVERSIZED : AgentFrames.Refusal.TRUNCATED, total);
          }
        }
        byte b = buf[pos++];
        total++;
        if (b == '\n') {
          break;
        }
        if (length < line.length) {
          line[length++] = b;
        } else {
          overflow = true;
        }
      }
      if (overflow) {
        return new Refused(AgentFrames.Refusal.OVERSIZED, total);
      }
      if (length > 0 && line[length - 1] == '\r') {
        length--;
      }
      if (isBlank(length)) {
        continue;
      }
      try {
        return new Frame(
            AgentFrames.parse(Arrays.copyOf(line, length), AgentFrames.Source.RUNTIME),
            (int) total);
      } catch (AgentFrames.FrameException e) {
        return new Refused(e.refusal(), total);
      }
    }
  }

  private boolean isBlank(int length) {
    for (int i = 0; i < length; i++) {
      if (line[i] != ' ' && line[i] != '\t') {
        return false;
      }
    }
    return true;
  }
}
