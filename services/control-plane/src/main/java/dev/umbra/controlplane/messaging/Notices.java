package dev.umbra.controlplane.messaging;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.bus.SealedNotices;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.proto.bus.MessageNotice;
import dev.umbra.proto.bus.StoredCopy;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.buffer.Buffer;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.UUID;

/**
 * Message notices on the bus (docs/messaging.md, "Notices on the bus"): a {@link MessageNotice}
 * that carries the stored copy when its ciphertext is at most {@link #MAX_CARRIED_CIPHERTEXT}
 * bytes, sealed by the kit's {@link SealedNotices} under the message-notice domain ({@code
 * umbra-msg-notice/v1}, its key derived from the internal credential): the body {@code 0x01 ||
 * u64be(unix_millis) || mac || notice}, the MAC bound to the recipient's channel ({@link
 * BusNames#messageRecipient}) and the time. A receiver checks size, version, MAC (constant time),
 * time window and replay before it parses anything; a notice refused is dropped and counted in
 * {@code umbra_control_plane_message_notices_refused{reason}}, never pushed nor logged.
 */
final class Notices {
  /**
   * Largest ciphertext a notice carries; a larger copy's notice names its id only and the
   * recipient's instance reads it from PostgreSQL. Half the largest copy ({@link
   * MessageRoutes#MAX_CIPHERTEXT}): the bus carries small messages, the common case, and no Redis
   * message grows past ~33 KiB.
   */
  static final int MAX_CARRIED_CIPHERTEXT = 32 * 1024;

  /** Largest notice: the largest carried ciphertext, ids and fields (generously). */
  static final int MAX_NOTICE = MAX_CARRIED_CIPHERTEXT + 1024;

  /** Largest body accepted: the seal's header and the largest notice. */
  static final int MAX_BODY = SealedNotices.HEADER + MAX_NOTICE;

  /**
   * Notices remembered against replays ({@link SealedNotices}): 262 144, 9 MiB when full (36 bytes
   * each, 13.5 MiB at most while its arrays double on the way). A notice is remembered until its
   * time is a window (30 s) old, up to 60 s when its sender's clock is ahead, so this carries ~4
   * 400 notices a second to one instance in the worst case and ~8 700 with clocks in step, over
   * twice the ~2 000 a second messaging sustains (docs/benchmarks.md); beyond it, late notices are
   * refused ({@code replay_memory_full}), never a replay accepted.
   */
  static final int REMEMBERED = 1 << 18;

  /** A verified notice: the message id, and its stored copy if the notice carried it, else null. */
  record Notice(UUID messageId, MessageStore.Stored copy) {}

  /** What {@link #open} made of a body: a notice, or why it was refused. */
  record Opened(Notice notice, SealedNotices.Refusal refusal) {}

  private final SealedNotices seals;
  private final Map<SealedNotices.Refusal, Counter> refused =
      new EnumMap<>(SealedNotices.Refusal.class);

  /** Notices sealed under {@code credential}, their time from {@code clock}. */
  Notices(InternalCredential credential, MeterRegistry registry, Clock clock) {
    this.seals =
        new SealedNotices(
            credential.value(),
            CryptoConstants.MESSAGE_NOTICE_DOMAIN,
            MAX_NOTICE,
            REMEMBERED,
            clock::millis);
    for (SealedNotices.Refusal r : SealedNotices.Refusal.values()) {
      refused.put(
          r,
          Counter.builder(Metrics.name("control-plane", "message_notices_refused"))
              .tag("reason", r.tag)
              .register(registry));
    }
  }

  /**
   * The notice of {@code messageId} for {@code recipient}, unsealed (the outbox seals it at each
   * attempt: {@link #seal}): carries {@code copy} when it is given and its ciphertext within {@link
   * #MAX_CARRIED_CIPHERTEXT}.
   */
  static byte[] notice(UUID workspace, UUID recipient, UUID messageId, MessageStore.Stored copy) {
    MessageNotice.Builder n =
        MessageNotice.newBuilder()
            .setWorkspaceId(workspace.toString())
            .setRecipientId(recipient.toString())
            .setMessageId(messageId.toString());
    if (copy != null && copy.ciphertext().length <= MAX_CARRIED_CIPHERTEXT) {
      Instant at = copy.createdAt().toInstant();
      n.setCopy(
          StoredCopy.newBuilder()
              .setSeq(copy.seq())
              .setConversationId(copy.conversationId().toString())
              .setSenderKind(copy.senderKind())
              .setSenderId(copy.senderId().toString())
              .setCiphertext(ByteString.copyFrom(copy.ciphertext()))
              .setCreatedAtUnixMicros(ChronoUnit.MICROS.between(Instant.EPOCH, at)));
    }
    return n.build().toByteArray();
  }

  /**
   * The body of {@code notice} sealed for {@code channel} now: its time and MAC are this call's (a
   * retry sealed again is a new body, never refused as stale nor replayed).
   */
  Buffer seal(String channel, byte[] notice) {
    return seals.seal(channel, notice);
  }

  /**
   * The notice of {@code body} received on the channel of {@code workspace}/{@code recipient}, or
   * why it is refused (counted). Size, version, MAC, time and replay are checked before any
   * parsing.
   */
  Opened open(UUID workspace, UUID recipient, Buffer body) {
    SealedNotices.Opened o = seals.open(BusNames.messageRecipient(workspace, recipient), body);
    if (o.refusal() != null) {
      return refuse(o.refusal());
    }
    Notice n = parse(workspace, recipient, o.notice());
    return n == null ? refuse(SealedNotices.Refusal.MALFORMED) : new Opened(n, null);
  }

  private Opened refuse(SealedNotices.Refusal r) {
    refused.get(r).increment();
    return new Opened(null, r);
  }

  /** The verified notice's fields, or null unless it names this channel and is well formed. */
  static Notice parse(UUID workspace, UUID recipient, byte[] bytes) {
    try {
      MessageNotice n = MessageNotice.parseFrom(bytes);
      if (!n.getWorkspaceId().equals(workspace.toString())
          || !n.getRecipientId().equals(recipient.toString())) {
        return null;
      }
      UUID id = uuid(n.getMessageId());
      if (!n.hasCopy()) {
        return new Notice(id, null);
      }
      StoredCopy c = n.getCopy();
      if (c.getSeq() <= 0
          || Arrays.stream(Party.Kind.values()).noneMatch(k -> k.wire().equals(c.getSenderKind()))
          || c.getCiphertext().size() > MAX_CARRIED_CIPHERTEXT) {
        return null;
      }
      Instant at = Instant.EPOCH.plus(c.getCreatedAtUnixMicros(), ChronoUnit.MICROS);
      return new Notice(
          id,
          new MessageStore.Stored(
              c.getSeq(),
              id,
              uuid(c.getConversationId()),
              c.getSenderKind(),
              uuid(c.getSenderId()),
              c.getCiphertext().toByteArray(),
              OffsetDateTime.ofInstant(at, ZoneOffset.UTC)));
    } catch (InvalidProtocolBufferException
        | IllegalArgumentException
        | ArithmeticException
        | java.time.DateTimeException e) {
      return null;
    }
  }

  /** A UUID in its canonical (lowercase) text only. */
  private static UUID uuid(String s) {
    UUID u = UUID.fromString(s);
    if (!u.toString().equals(s)) {
      throw new IllegalArgumentException("not canonical");
    }
    return u;
  }
}
