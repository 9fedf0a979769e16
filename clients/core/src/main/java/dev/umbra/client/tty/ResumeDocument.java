package dev.umbra.client.tty;

import static dev.umbra.client.tty.SignedDocuments.canonical;
import static dev.umbra.client.tty.SignedDocuments.num;
import static dev.umbra.client.tty.SignedDocuments.str;

import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.proto.webtty.SignedMessage;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The daemon-signed resume document of an engine failover (docs/webtty.md "Engine failover"): the
 * canonical JSON
 *
 * <pre>{"controller_key_id":hex16,"epoch":n,"input_counter":n,"input_key_id":hex16,
 * "output_counter":n,"output_epoch":n,"output_key_id":hex16,"server_id","session_id",
 * "time_ms":n,"type":"umbra-webtty-resume/v1","workspace_id"}</pre>
 *
 * signed (Ed25519) by the machine's binding key, the key pinned as the hello's {@code
 * server_signing_key}. {@code controller_key_id} and {@code input_key_id} are absent while nobody
 * controls; {@code epoch} counts the session's failovers from 1; the counters are the next ones the
 * daemon expects (input, under {@code input_key_id}) and sends (output, under {@code
 * output_key_id}, output-key epoch {@code output_epoch}). The engine may hold and forward it, never
 * make one: participants verify it against their pinned server key and refuse one that is not newer
 * than the last they accepted (a replay), names other ids, another output key, or a controller the
 * engine's role does not match.
 */
public record ResumeDocument(
    String workspaceId,
    String serverId,
    String sessionId,
    long epoch,
    String controllerKeyId,
    String inputKeyId,
    long inputCounter,
    String outputKeyId,
    long outputEpoch,
    long outputCounter,
    long timeMs) {
  public static final String TYPE = "umbra-webtty-resume/v1";
  private static final Set<String> MEMBERS =
      Set.of(
          "epoch",
          "input_counter",
          "output_counter",
          "output_epoch",
          "output_key_id",
          "server_id",
          "session_id",
          "time_ms",
          "type",
          "workspace_id");

  /** The canonical JSON members (null ones omitted). */
  public Map<String, Object> json() {
    Map<String, Object> m = new LinkedHashMap<>();
    if (controllerKeyId != null) {
      m.put("controller_key_id", controllerKeyId);
    }
    m.put("epoch", epoch);
    m.put("input_counter", inputCounter);
    if (inputKeyId != null) {
      m.put("input_key_id", inputKeyId);
    }
    m.put("output_counter", outputCounter);
    m.put("output_epoch", outputEpoch);
    m.put("output_key_id", outputKeyId);
    m.put("server_id", serverId);
    m.put("session_id", sessionId);
    m.put("time_ms", timeMs);
    m.put("type", TYPE);
    m.put("workspace_id", workspaceId);
    return m;
  }

  public SignedMessage sign(Ed25519KeyPair key) {
    return SignedDocuments.signed(json(), key);
  }

  /**
   * Verifies the signature under {@code serverKey} before reading anything, then the shape: exactly
   * the members above (the two optional ones both present or both absent), ids as hex, at most 16
   * KiB.
   */
  public static ResumeDocument verify(SignedMessage m, Ed25519PublicKey serverKey) {
    if (m.getCanonicalJson().size() > 16 * 1024 || m.getSignature().size() != 64) {
      throw new MalformedInputException("resume document too large or signature not 64 bytes");
    }
    serverKey.verify(m.getCanonicalJson().toByteArray(), m.getSignature().toByteArray());
    Map<String, Object> j = canonical(m);
    Set<String> members = new HashSet<>(j.keySet());
    boolean controller = members.remove("controller_key_id");
    boolean input = members.remove("input_key_id");
    if (!members.equals(MEMBERS) || controller != input || !TYPE.equals(j.get("type"))) {
      throw new MalformedInputException("not a WebTTY resume document");
    }
    ResumeDocument d =
        new ResumeDocument(
            str(j, "workspace_id"),
            str(j, "server_id"),
            str(j, "session_id"),
            num(j, "epoch"),
            controller ? hex16(j, "controller_key_id") : null,
            input ? hex16(j, "input_key_id") : null,
            num(j, "input_counter"),
            hex16(j, "output_key_id"),
            num(j, "output_epoch"),
            num(j, "output_counter"),
            num(j, "time_ms"));
    if (d.epoch < 1 || d.inputCounter < 0 || d.outputCounter < 0 || d.outputEpoch < 0) {
      throw new MalformedInputException("resume document numbers out of range");
    }
    return d;
  }

  private static String hex16(Map<String, Object> j, String k) {
    String v = str(j, k);
    if (!v.matches("[0-9a-f]{32}")) {
      throw new MalformedInputException("resume document has a bad " + k);
    }
    return v;
  }
}
