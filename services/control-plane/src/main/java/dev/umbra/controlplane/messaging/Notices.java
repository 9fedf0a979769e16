package dev.umbra.controlplane.messaging;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.secret.MessageNoticeMacs;
import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.proto.bus.MessageNotice;
import dev.umbra.proto.bus.StoredCopy;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.buffer.Buffer;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.UUID;

/**
 * Message notices on the bus (docs/messaging.md, "Notices on the bus"): the body {@code 0x01 || mac
 * || notice}, where {@code notice} is a {@link MessageNotice} that carries the stored copy when its
 * ciphertext is at most {@link #MAX_CARRIED_CIPHERTEXT} bytes, and {@code mac} is {@link
 * MessageNoticeMacs}' MAC under a key derived from the internal credential, bound to the channel's
 * workspace and recipient. A receiver checks size, version and MAC (constant time) before it parses
 * anything; a notice refused is dropped and counted in {@code
 * umbra_control_plane_message_notices_refused{reason}}, never pushed nor logged.
 */
final class Notices {
  /**
   * Largest ciphertext a notice carries; a larger copy's notice names its id only and the
   * recipient's instance reads it from PostgreSQL. Half the largest copy ({@link
   * MessageRoutes#MAX_CIPHERTEXT}): the bus carries small messages, the common case, and no Redis
   * message grows past ~33 KiB.
   */
  static final int MAX_CARRIED_CIPHERTEXT = 32 * 1024;

  private static final int HEADER = 1 + CryptoConstants.MESSAGE_NOTICE_MAC_LENGTH;

  /** Largest body accepted: header, the largest carried ciphertext, ids and fields (generously). */
  static final int MAX_BODY = HEADER + MAX_CARRIED_CIPHERTEXT + 1024;

  /** Why a notice was dropped. */
  enum Refusal {
    /** Over {@link #MAX_BODY}: not even MAC'd. */
    OVERSIZED("oversized"),
    /** Shorter than version and MAC. */
    TRUNCATED("truncated"),
    /** A first byte other than {@code 0x01}. */
    UNKNOWN_VERSION("unknown_version"),
    /** The MAC is not that of this body on this channel. */
    BAD_MAC("bad_mac"),
    /** MAC'd, yet not a notice of this channel as {@link #encode} writes it. */
    MALFORMED("malformed");

    final String tag;

    Refusal(String tag) {
      this.tag = tag;
    }
  }

  /** A verified notice: the message id, and its stored copy if the notice carried it, else null. */
  record Notice(UUID messageId, MessageStore.Stored copy) {}

  /** What {@link #open} made of a body: a notice, or why it was refused. */
  record Opened(Notice notice, Refusal refusal) {}

  private final byte[] key;
  private final Map<Refusal, Counter> refused = new EnumMap<>(Refusal.class);

  Notices(InternalCredential credential, MeterRegistry registry) {
    this.key = MessageNoticeMacs.key(credential.value());
    for (Refusal r : Refusal.values()) {
      refused.put(
          r,
          Counter.builder(Metrics.name("control-plane", "message_notices_refused"))
              .tag("reason", r.tag)
              .register(registry));
    }
  }

  /**
   * The body of the notice of {@code messageId} for {@code recipient}: carries {@code copy} when it
   * is given and its ciphertext within {@link #MAX_CARRIED_CIPHERTEXT}.
   */
  Buffer encode(UUID workspace, UUID recipient, UUID messageId, MessageStore.Stored copy) {
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
    return sealed(workspace.toString(), recipient.toString(), n.build().toByteArray());
  }

  /** {@code 0x01 || mac || notice} for the channel of {@code workspace}/{@code recipient}. */
  Buffer sealed(String workspace, String recipient, byte[] notice) {
    byte[] mac = MessageNoticeMacs.mac(key, workspace, recipient, notice);
    return Buffer.buffer(HEADER + notice.length)
        .appendByte(CryptoConstants.MESSAGE_NOTICE_VERSION)
        .appendBytes(mac)
        .appendBytes(notice);
  }

  /**
   * The notice of {@code body} received on the channel of {@code workspace}/{@code recipient}, or
   * why it is refused (counted). Size, version and MAC are checked before any parsing.
   */
  Opened open(UUID workspace, UUID recipient, Buffer body) {
    Refusal r = check(workspace.toString(), recipient.toString(), body);
    if (r != null) {
      return refuse(r);
    }
    Notice n = parse(workspace, recipient, body.getBytes(HEADER, body.length()));
    return n == null ? refuse(Refusal.MALFORMED) : new Opened(n, null);
  }

  private Opened refuse(Refusal r) {
    refused.get(r).increment();
    return new Opened(null, r);
  }

  private Refusal check(String workspace, String recipient, Buffer body) {
    if (body.length() > MAX_BODY) {
      return Refusal.OVERSIZED;
    }
    if (body.length() < HEADER) {
      return Refusal.TRUNCATED;
    }
    if (body.getByte(0) != CryptoConstants.MESSAGE_NOTICE_VERSION) {
      return Refusal.UNKNOWN_VERSION;
    }
    byte[] all = body.getBytes();
    byte[] mac = Arrays.copyOfRange(all, 1, HEADER);
    byte[] notice = Arrays.copyOfRange(all, HEADER, all.length);
    return MessageNoticeMacs.verify(key, workspace, recipient, notice, mac)
        ? null
        : Refusal.BAD_MAC;
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
