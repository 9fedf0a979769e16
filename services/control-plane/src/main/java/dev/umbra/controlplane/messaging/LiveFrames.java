package dev.umbra.controlplane.messaging;

import dev.umbra.kit.http.Requests;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The frames of a live socket (docs/messaging.md, "WebSocket protocol"). What its client sends is
 * parsed without I/O so that {@link LiveDelivery} only acts on what this admits ({@code
 * LiveFramesFuzzTest} fuzzes it): {@code {"type":"ping"}}, and {@code {"type":"ack","ids":[…]}}
 * with exactly these two members and 1 to {@value #MAX_ACK_IDS} message ids in their 36-character
 * form. Anything else is a {@link Refusal}, which closes the socket with 1008 and the refusal's
 * reason. What the instance sends is built here too: {@code ready}, {@code pong}, {@code acked},
 * and the copies, one {@code message} frame each or {@code messages} frames ({@link #batches}).
 */
final class LiveFrames {
  /**
   * Longest frame read, in characters: the socket's frame and message limit (64 KiB, the kit's
   * default, which closes a longer one with 1009 before it is read), checked again here.
   */
  static final int MAX_FRAME_CHARS = 64 * 1024;

  /** Most ids in one {@code ack} frame (and one {@code POST /messages/acks}). */
  static final int MAX_ACK_IDS = 200;

  /** Most copies in one {@code messages} frame. */
  static final int MAX_FRAME_MESSAGES = 100;

  /**
   * A {@code messages} frame takes copies while their ciphertexts' base64 plus {@value
   * #FRAME_OVERHEAD_CHARS} each stay within this (a lone copy, up to ~88,000 characters, always
   * goes): frames stay under the 256 KiB clients accept.
   */
  static final int MAX_BATCH_CHARS = 160 * 1024;

  /** A copy's JSON beside its ciphertext (ids, seq, kind, time), counted generously. */
  static final int FRAME_OVERHEAD_CHARS = 400;

  private LiveFrames() {}

  /** What a client may send. */
  enum Kind {
    PING,
    ACK
  }

  /** Why a frame was refused; {@link #reason} is the close frame's reason. */
  enum Refusal {
    /** Longer than {@link #MAX_FRAME_CHARS}. */
    OVERSIZED("frame too large"),
    /** Not a JSON object (cut short, not JSON, or another JSON value). */
    MALFORMED("malformed frame"),
    /** A JSON object without a {@code type} the protocol has. */
    UNKNOWN_TYPE("unknown frame type"),
    /** An {@code ack} with other members, no ids, over {@value #MAX_ACK_IDS}, or not ids. */
    MALFORMED_ACK("malformed ack");

    final String reason;

    Refusal(String reason) {
      this.reason = reason;
    }
  }

  /** A parsed frame: its kind and, for an ack, its ids (in order); or why it was refused. */
  record Frame(Kind kind, List<UUID> ids, Refusal refusal) {
    static Frame refused(Refusal r) {
      return new Frame(null, List.of(), r);
    }
  }

  /** The frame of {@code text}, or its refusal; never throws. */
  static Frame parse(String text) {
    if (text.length() > MAX_FRAME_CHARS) {
      return Frame.refused(Refusal.OVERSIZED);
    }
    JsonObject f;
    try {
      f = new JsonObject(text);
    } catch (RuntimeException e) {
      // DecodeException, and whatever a JSON value that is not an object makes of the cast
      return Frame.refused(Refusal.MALFORMED);
    }
    String type = f.getValue("type") instanceof String t ? t : "";
    return switch (type) {
      case "ping" -> new Frame(Kind.PING, List.of(), null);
      case "ack" -> ack(f);
      default -> Frame.refused(Refusal.UNKNOWN_TYPE);
    };
  }

  private static Frame ack(JsonObject f) {
    if (f.size() != 2 || !(f.getValue("ids") instanceof JsonArray a)) {
      return Frame.refused(Refusal.MALFORMED_ACK);
    }
    if (a.isEmpty() || a.size() > MAX_ACK_IDS) {
      return Frame.refused(Refusal.MALFORMED_ACK);
    }
    List<UUID> ids = new ArrayList<>(a.size());
    for (Object o : a) {
      if (!(o instanceof String s)) {
        return Frame.refused(Refusal.MALFORMED_ACK);
      }
      try {
        ids.add(Requests.uuid(s, "ids"));
      } catch (RuntimeException e) {
        return Frame.refused(Refusal.MALFORMED_ACK);
      }
    }
    return new Frame(Kind.ACK, List.copyOf(ids), null);
  }

  /** {@code ready}: the instance listens for the socket's notices. */
  static JsonObject ready() {
    return new JsonObject().put("type", "ready");
  }

  /** The answer to a {@code ping}. */
  static JsonObject pong() {
    return new JsonObject().put("type", "pong");
  }

  /** The answer to an {@code ack}: how many copies it deleted. */
  static JsonObject acked(int deleted) {
    return new JsonObject().put("type", "acked").put("deleted", deleted);
  }

  /** One copy ({@link MessageStore.Stored#toJson}) in its own {@code message} frame. */
  static JsonObject message(JsonObject copy) {
    return new JsonObject().put("type", "message").put("message", copy);
  }

  /** {@code messages} frames of {@code copies} in order, each within the frame limits. */
  static List<JsonObject> batches(List<JsonObject> copies) {
    List<JsonObject> frames = new ArrayList<>();
    JsonArray current = new JsonArray();
    int chars = 0;
    for (JsonObject m : copies) {
      int size = m.getString("ciphertext", "").length() + FRAME_OVERHEAD_CHARS;
      if (!current.isEmpty()
          && (current.size() == MAX_FRAME_MESSAGES || chars + size > MAX_BATCH_CHARS)) {
        frames.add(messages(current));
        current = new JsonArray();
        chars = 0;
      }
      current.add(m);
      chars += size;
    }
    frames.add(messages(current));
    return frames;
  }

  private static JsonObject messages(JsonArray copies) {
    return new JsonObject().put("type", "messages").put("messages", copies);
  }
}
