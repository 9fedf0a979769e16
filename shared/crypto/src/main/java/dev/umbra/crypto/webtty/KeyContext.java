package dev.umbra.crypto.webtty;

import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.json.CanonicalJson;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The context a WebTTY payload key belongs to: workspace, server, session and the recipients' key
 * ids. Encoded (DESIGN.md §5) as the canonical JSON of {@code {"recipients":[lowercase hex,
 * sorted],"server_id":..,"session_id":..,"workspace_id":..}}.
 */
public record KeyContext(
    String workspaceId, String serverId, String sessionId, List<KeyId> recipients) {
  public KeyContext {
    requireText(workspaceId, "workspace_id");
    requireText(serverId, "server_id");
    requireText(sessionId, "session_id");
    if (recipients == null || recipients.isEmpty()) {
      throw new MalformedInputException("WebTTY key context needs at least one recipient");
    }
    TreeSet<KeyId> sorted = new TreeSet<>(recipients);
    if (sorted.size() != recipients.size()) {
      throw new MalformedInputException("WebTTY key context lists a recipient twice");
    }
    recipients = List.copyOf(sorted);
  }

  /** The canonical JSON bytes that {@code lp(key_context)} carries. */
  public byte[] toCanonicalJson() {
    List<String> hex = new ArrayList<>();
    for (KeyId id : recipients) {
      hex.add(id.toHex());
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("workspace_id", workspaceId);
    m.put("server_id", serverId);
    m.put("session_id", sessionId);
    m.put("recipients", hex);
    return CanonicalJson.encode(m);
  }

  public boolean hasRecipient(KeyId id) {
    return recipients.contains(id);
  }

  private static void requireText(String value, String name) {
    if (value == null || value.isEmpty()) {
      throw new MalformedInputException("WebTTY key context " + name + " is missing");
    }
  }
}
