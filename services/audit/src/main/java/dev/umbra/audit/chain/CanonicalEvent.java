package dev.umbra.audit.chain;

import dev.umbra.kit.audit.AuditEventRules;
import dev.umbra.proto.audit.AuditEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The canonical encoding of an audit event, the bytes that are hashed (docs/audit.md, "Canonical
 * encoding"). Independent of protobuf: every field in a fixed order, strings as {@code lp(x)} (a
 * 4-byte big-endian length then the UTF-8 bytes), enums as their lowercase wire names, the time as
 * a signed 8-byte big-endian integer, and metadata as a 4-byte count then {@code lp(key) lp(value)}
 * pairs sorted by the UTF-8 bytes of the key.
 */
public final class CanonicalEvent {
  static final String DOMAIN = "umbra-audit-event/v1";

  private CanonicalEvent() {}

  /** Encodes a valid event (see {@link AuditEventRules}); the workspace is its chain's id. */
  public static byte[] encode(AuditEvent e) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    lp(out, DOMAIN);
    lp(out, e.getId());
    lp(out, AuditEventRules.chainOf(e).toString());
    lp(out, AuditEventRules.actorKindWire(e.getActor().getKind()).orElseThrow());
    lp(out, e.getActor().getId());
    lp(out, e.getAction());
    lp(out, e.getTarget());
    lp(out, AuditEventRules.outcomeWire(e.getOutcome()).orElseThrow());
    u64(out, e.getTimeUnixMs());
    lp(out, e.getSourceIp());
    lp(out, e.getRequestId());
    lp(out, e.getService());
    List<byte[][]> meta = new ArrayList<>();
    for (Map.Entry<String, String> m : e.getMetadataMap().entrySet()) {
      meta.add(new byte[][] {utf8(m.getKey()), utf8(m.getValue())});
    }
    meta.sort((a, b) -> Arrays.compareUnsigned(a[0], b[0]));
    u32(out, meta.size());
    for (byte[][] kv : meta) {
      lp(out, kv[0]);
      lp(out, kv[1]);
    }
    return out.toByteArray();
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static void lp(ByteArrayOutputStream out, String s) {
    lp(out, utf8(s));
  }

  static void lp(ByteArrayOutputStream out, byte[] b) {
    u32(out, b.length);
    out.writeBytes(b);
  }

  static void u32(ByteArrayOutputStream out, int v) {
    out.write(v >>> 24);
    out.write(v >>> 16);
    out.write(v >>> 8);
    out.write(v);
  }

  static void u64(ByteArrayOutputStream out, long v) {
    u32(out, (int) (v >>> 32));
    u32(out, (int) v);
  }
}
