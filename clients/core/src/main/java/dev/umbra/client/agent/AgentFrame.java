package dev.umbra.client.agent;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;

/**
 * One agent session frame (docs/agents.md, "Session frames"): its type, its sequence number in the
 * session (0 for frames that are not part of it: a runtime's or a client's frame before the daemon
 * numbered it, a notice, a list or page answer) and its JSON object, which holds only the members
 * its type defines (anything else a peer sent was dropped by {@link AgentFrames#parse}).
 */
public record AgentFrame(long seq, AgentFrames.Type type, JsonObject json) {

  /** The same frame numbered {@code seq} in the session (the daemon does this). */
  public AgentFrame numbered(long seq) {
    return new AgentFrame(seq, type, json.copy().put("seq", seq));
  }

  /** A string member, or "" when absent. */
  public String text(String member) {
    Object v = json.getValue(member);
    return v instanceof String s ? s : "";
  }

  /** The UTF-8 JSON of the frame (one line: JSON never has a raw new line in it). */
  public byte[] bytes() {
    return json.encode().getBytes(StandardCharsets.UTF_8);
  }
}
