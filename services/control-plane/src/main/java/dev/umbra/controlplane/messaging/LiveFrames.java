package dev.umbra.controlplane.messaging;

import dev.umbra.kit.http.Requests;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The frames a live socket's client sends (docs/messaging.md, "WebSocket protocol"), parsed without
 * I/O so that {@link LiveDelivery} only acts on what this admits ({@code LiveFramesFuzzTest} fuzzes
 * it): {@code {"type":"ping"}}, and {@code {"type":"ack","ids":[…]}} with exactly these two members
 * and 1 to {@value LiveDelivery#MAX_ACK_IDS} message ids in their 36-character form. Anything else
 * is a {@link Refusal}, which closes the socket with 1008 and the refusal's reason.
 */
final class LiveFrames {
  /**
   * Longest frame read, in characters: the socket's frame and message limit (64 KiB, the kit's
   * default, which closes a longer one with 1009 before it is read), checked again here.
   */
  static final int MAX_FRAME_CHARS = 64 * 1024;

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
    /**
     * An {@code ack} with other members, no ids, over {@value LiveDelivery#MAX_ACK_IDS}, or not
     * ids.
     */
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
    if (a.isEmpty() || a.size() > LiveDelivery.MAX_ACK_IDS) {
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
}
