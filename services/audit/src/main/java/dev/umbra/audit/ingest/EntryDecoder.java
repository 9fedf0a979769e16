package dev.umbra.audit.ingest;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.kit.audit.AuditEventRules;
import dev.umbra.kit.bus.StreamEntry;
import dev.umbra.proto.audit.AuditEvent;
import io.vertx.core.buffer.Buffer;
import java.util.Optional;

/**
 * Turns a stream entry (outside bytes) into a valid event or a dead letter: the size is checked
 * before parsing, then protobuf, then {@link AuditEventRules}. Never throws.
 */
public final class EntryDecoder {
  /** At most this many bytes of a refused entry are kept in the dead-letter table. */
  public static final int MAX_KEPT_BYTES = 16 * 1024;

  private EntryDecoder() {}

  public sealed interface Decoded permits Valid, Rejected {
    String entryId();
  }

  public record Valid(String entryId, AuditEvent event) implements Decoded {}

  /** {@code kept} is what the dead-letter table stores: never more than {@link #MAX_KEPT_BYTES}. */
  public record Rejected(String entryId, String reason, byte[] kept, int rawLength)
      implements Decoded {}

  public static Decoded decode(StreamEntry entry) {
    Buffer body = entry.body();
    int length = body == null ? 0 : body.length();
    if (length == 0) {
      return new Rejected(entry.id(), "empty", new byte[0], 0);
    }
    if (length > AuditEventRules.MAX_EVENT_BYTES) {
      return new Rejected(
          entry.id(), "oversized", body.getBytes(0, Math.min(length, MAX_KEPT_BYTES)), length);
    }
    AuditEvent event;
    try {
      event = AuditEvent.parseFrom(body.getBytes());
    } catch (InvalidProtocolBufferException e) {
      return new Rejected(entry.id(), "malformed", body.getBytes(), length);
    }
    Optional<String> problem = AuditEventRules.problem(event);
    if (problem.isPresent()) {
      return new Rejected(entry.id(), problem.get(), redacted(event, problem.get()), length);
    }
    return new Valid(entry.id(), event);
  }

  /**
   * A refused event that might carry a secret under a forbidden metadata key is kept with its
   * metadata values blanked; other refused events are kept whole.
   */
  private static byte[] redacted(AuditEvent event, String reason) {
    if (!reason.equals("forbidden_metadata_key") && !reason.equals("bad_metadata")) {
      return event.toByteArray();
    }
    AuditEvent.Builder b = event.toBuilder().clearMetadata();
    event.getMetadataMap().keySet().forEach(k -> b.putMetadata(k, "<dropped>"));
    return b.build().toByteArray();
  }
}
