package dev.umbra.client.messaging;

import dev.umbra.client.http.JsonText;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * The agent socket's JSON-lines protocol (docs/messaging.md, "Agent socket"): one JSON object per
 * line (UTF-8, at most {@value #MAX_LINE} bytes including the newline), answered by one line.
 *
 * <pre>
 * {"op":"recv"}                                   -> {"ok":true,"messages":[{id, account_id?, sender_id, text, created_at}]}
 * {"op":"send","to":"&lt;account id&gt;","text":"..."}   -> {"ok":true,"id":"&lt;message id&gt;"}
 * {"op":"send_many","to":"&lt;account id&gt;","texts":["...", ...]} -> {"ok":true,"ids":[...]}  (1..64 texts, several a request)
 * {"op":"ack","id":"&lt;message id&gt;"}                 -> {"ok":true}
 * {"op":"ack","ids":["&lt;message id&gt;", ...]}         -> {"ok":true}  (1..200 ids, one store write)
 * anything else                                   -> {"ok":false,"error":"&lt;code&gt;","message":"..."}
 * </pre>
 *
 * Messages returned by {@code recv} stay until acked (at least once to the agent process).
 */
public final class AgentProtocol {
  public static final int MAX_LINE = 512 * 1024;

  private AgentProtocol() {}

  /** Why a line was refused; {@link #code()} is what the answer names. */
  public enum Refusal {
    TRUNCATED,
    TOO_LONG,
    NOT_UTF8,
    MALFORMED_JSON,
    UNKNOWN_OP,
    MISSING_FIELD,
    BAD_FIELD,
    TEXT_TOO_LARGE,
    /**
     * The connecting process runs as another user than the socket's owner (ends the connection).
     */
    NOT_OWNER,
    /**
     * The request was well formed but could not be done (server unreachable, not approved, ...).
     */
    FAILED;

    public String code() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** A refused line. */
  public static final class ProtocolException extends Exception {
    private final Refusal refusal;

    public ProtocolException(Refusal refusal, String message) {
      super(message);
      this.refusal = refusal;
    }

    public Refusal refusal() {
      return refusal;
    }
  }

  /** One request. */
  public sealed interface Request permits Recv, Send, SendMany, Ack {}

  public record Recv() implements Request {}

  public record Send(UUID to, String text) implements Request {}

  /** Several messages to one member, in order, sent several a request (docs/messaging.md). */
  public record SendMany(UUID to, List<String> texts) implements Request {}

  /** Messages shown: they leave the inbox (one id, or up to {@value #MAX_ACK_IDS} at once). */
  public record Ack(List<UUID> ids) implements Request {
    public Ack(UUID id) {
      this(List.of(id));
    }
  }

  /** Most ids in one {@code ack}. */
  public static final int MAX_ACK_IDS = 200;

  /** Most texts in one {@code send_many}. */
  public static final int MAX_TEXTS = 64;

  private static final Set<String> RECV_KEYS = Set.of("op");
  private static final Set<String> SEND_KEYS = Set.of("op", "to", "text");
  private static final Set<String> ACK_KEYS = Set.of("op", "id", "ids");
  private static final Set<String> SEND_MANY_KEYS = Set.of("op", "to", "texts");

  /**
   * The next line's bytes without its newline; null at a clean end of input. A line longer than
   * {@link #MAX_LINE} or input ending inside a line is refused.
   */
  public static byte[] readLine(InputStream in) throws IOException, ProtocolException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        return buf.toByteArray();
      }
      if (buf.size() >= MAX_LINE - 1) {
        throw new ProtocolException(Refusal.TOO_LONG, "line over " + MAX_LINE + " bytes");
      }
      buf.write(c);
    }
    if (buf.size() == 0) {
      return null;
    }
    throw new ProtocolException(Refusal.TRUNCATED, "input ended inside a line");
  }

  /** Parses one line (without its newline). */
  public static Request parse(byte[] line) throws ProtocolException {
    if (line.length >= MAX_LINE) {
      throw new ProtocolException(Refusal.TOO_LONG, "line over " + MAX_LINE + " bytes");
    }
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(line))
              .toString();
    } catch (CharacterCodingException e) {
      throw new ProtocolException(Refusal.NOT_UTF8, "a line must be UTF-8");
    }
    JsonObject j;
    try {
      j = JsonText.parseObject(text);
    } catch (RuntimeException e) {
      throw new ProtocolException(Refusal.MALFORMED_JSON, "a line must be one JSON object");
    }
    Object op = j.getValue("op");
    if (!(op instanceof String s)) {
      throw new ProtocolException(Refusal.MISSING_FIELD, "op is required");
    }
    return switch (s) {
      case "recv" -> {
        only(j, RECV_KEYS);
        yield new Recv();
      }
      case "send" -> {
        only(j, SEND_KEYS);
        String body = text(string(j, "text"));
        yield new Send(uuid(j, "to"), body);
      }
      case "send_many" -> {
        only(j, SEND_MANY_KEYS);
        yield new SendMany(uuid(j, "to"), texts(j));
      }
      case "ack" -> {
        only(j, ACK_KEYS);
        yield ack(j);
      }
      default ->
          throw new ProtocolException(
              Refusal.UNKNOWN_OP, "unknown op: expected recv, send, send_many or ack");
    };
  }

  /** An ack of {@code id} or of {@code ids} (exactly one of them). */
  private static Ack ack(JsonObject j) throws ProtocolException {
    if (j.containsKey("id") == j.containsKey("ids")) {
      throw new ProtocolException(
          j.containsKey("id") ? Refusal.BAD_FIELD : Refusal.MISSING_FIELD,
          "ack takes id or ids, not both");
    }
    if (j.containsKey("id")) {
      return new Ack(uuid(j, "id"));
    }
    if (!(j.getValue("ids") instanceof JsonArray a) || a.isEmpty() || a.size() > MAX_ACK_IDS) {
      throw new ProtocolException(
          Refusal.BAD_FIELD, "ids must be an array of 1 to " + MAX_ACK_IDS + " message ids");
    }
    List<UUID> out = new java.util.ArrayList<>(a.size());
    for (Object o : a) {
      out.add(uuid(new JsonObject().put("ids", o), "ids"));
    }
    return new Ack(out);
  }

  private static String text(String body) throws ProtocolException {
    int n = body.getBytes(StandardCharsets.UTF_8).length;
    if (n == 0 || n > MessagingClient.MAX_TEXT_BYTES) {
      throw new ProtocolException(
          Refusal.TEXT_TOO_LARGE, "text must have 1.." + MessagingClient.MAX_TEXT_BYTES + " bytes");
    }
    return body;
  }

  private static List<String> texts(JsonObject j) throws ProtocolException {
    Object v = j.getValue("texts");
    if (v == null) {
      throw new ProtocolException(Refusal.MISSING_FIELD, "texts is required");
    }
    if (!(v instanceof JsonArray a) || a.isEmpty() || a.size() > MAX_TEXTS) {
      throw new ProtocolException(
          Refusal.BAD_FIELD, "texts must be an array of 1 to " + MAX_TEXTS + " strings");
    }
    List<String> out = new java.util.ArrayList<>(a.size());
    for (Object o : a) {
      if (!(o instanceof String s)) {
        throw new ProtocolException(Refusal.BAD_FIELD, "texts must be an array of strings");
      }
      out.add(text(s));
    }
    return out;
  }

  private static void only(JsonObject j, Set<String> allowed) throws ProtocolException {
    for (String k : j.fieldNames()) {
      if (!allowed.contains(k)) {
        throw new ProtocolException(Refusal.BAD_FIELD, "unknown field " + JsonText.encode(k));
      }
    }
  }

  private static String string(JsonObject j, String name) throws ProtocolException {
    Object v = j.getValue(name);
    if (v == null) {
      throw new ProtocolException(Refusal.MISSING_FIELD, name + " is required");
    }
    if (!(v instanceof String s)) {
      throw new ProtocolException(Refusal.BAD_FIELD, name + " must be a string");
    }
    return s;
  }

  private static UUID uuid(JsonObject j, String name) throws ProtocolException {
    String s = string(j, name);
    try {
      if (s.length() != 36) {
        throw new IllegalArgumentException();
      }
      return UUID.fromString(s);
    } catch (IllegalArgumentException e) {
      throw new ProtocolException(Refusal.BAD_FIELD, name + " must be a UUID");
    }
  }

  /** The answer line (with its newline) to a refused request. */
  public static byte[] error(Refusal r, String message) {
    return line(new JsonObject().put("ok", false).put("error", r.code()).put("message", message));
  }

  public static byte[] messages(List<JsonObject> messages) {
    return line(
        new JsonObject().put("ok", true).put("messages", new JsonArray(List.copyOf(messages))));
  }

  public static byte[] ok(JsonObject extra) {
    return line(new JsonObject().put("ok", true).mergeIn(extra));
  }

  static byte[] line(JsonObject j) {
    return (JsonText.encode(j) + "\n").getBytes(StandardCharsets.UTF_8);
  }
}
