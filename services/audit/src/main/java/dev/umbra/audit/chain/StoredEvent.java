package dev.umbra.audit.chain;

import dev.umbra.kit.audit.AuditEventRules;
import dev.umbra.proto.audit.Actor;
import dev.umbra.proto.audit.AuditEvent;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/** One stored link of a workspace's chain: the event, its sequence number and both hashes. */
public record StoredEvent(
    UUID workspaceId, long seq, AuditEvent event, byte[] prevHash, byte[] hash) {
  public static final String COLUMNS =
      "workspace_id, seq, id, actor_kind, actor_id, action, target, outcome, time_ms, source_ip, "
          + "request_id, service, metadata, prev_hash, hash";
  private static final HexFormat HEX = HexFormat.of();

  /**
   * Reads a row selected with {@link #COLUMNS}. A value no valid event can have (an unknown actor
   * kind, say) is kept as is, so verification reports the row instead of failing to read it.
   */
  public static StoredEvent fromRow(Row r) {
    UUID ws = r.getUUID("workspace_id");
    AuditEvent.Builder e =
        AuditEvent.newBuilder()
            .setId(r.getString("id"))
            .setWorkspaceId(ws.equals(AuditEventRules.DEPLOYMENT_WORKSPACE) ? "" : ws.toString())
            .setAction(r.getString("action"))
            .setTarget(r.getString("target"))
            .setTimeUnixMs(r.getLong("time_ms"))
            .setSourceIp(r.getString("source_ip"))
            .setRequestId(r.getString("request_id"))
            .setService(r.getString("service"));
    Actor.Builder actor = Actor.newBuilder().setId(r.getString("actor_id"));
    AuditEventRules.actorKindFromWire(r.getString("actor_kind")).ifPresent(actor::setKind);
    e.setActor(actor);
    AuditEventRules.outcomeFromWire(r.getString("outcome")).ifPresent(e::setOutcome);
    Object meta = r.getValue("metadata");
    if (meta instanceof JsonObject m) {
      for (Map.Entry<String, Object> kv : m) {
        e.putMetadata(kv.getKey(), String.valueOf(kv.getValue()));
      }
    }
    return new StoredEvent(
        ws,
        r.getLong("seq"),
        e.build(),
        bytes(r.getBuffer("prev_hash")),
        bytes(r.getBuffer("hash")));
  }

  private static byte[] bytes(Buffer b) {
    return b == null ? new byte[0] : b.getBytes();
  }

  /** The JSON form used by query, export (one per line) and the live channel. */
  public JsonObject toJson() {
    JsonObject meta = new JsonObject();
    new TreeMap<>(event.getMetadataMap()).forEach(meta::put);
    return new JsonObject()
        .put("id", event.getId())
        .put("workspace_id", workspaceId.toString())
        .put("seq", seq)
        .put("time", Instant.ofEpochMilli(event.getTimeUnixMs()).toString())
        .put("time_unix_ms", event.getTimeUnixMs())
        .put(
            "actor",
            new JsonObject()
                .put(
                    "kind",
                    AuditEventRules.actorKindWire(event.getActor().getKind()).orElse("unspecified"))
                .put("id", event.getActor().getId()))
        .put("action", event.getAction())
        .put("target", event.getTarget())
        .put("outcome", AuditEventRules.outcomeWire(event.getOutcome()).orElse("unspecified"))
        .put("source_ip", event.getSourceIp())
        .put("request_id", event.getRequestId())
        .put("service", event.getService())
        .put("metadata", meta)
        .put("prev_hash", HEX.formatHex(prevHash))
        .put("hash", HEX.formatHex(hash));
  }

  public static String hex(byte[] b) {
    return HEX.formatHex(b);
  }
}
