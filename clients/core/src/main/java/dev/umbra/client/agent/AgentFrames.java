package dev.umbra.client.agent;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The agent session frame format (docs/agents.md, "Session frames"): one JSON object per frame,
 * UTF-8, at most {@link #MAX_FRAME_BYTES}, with a {@code type}. The same format crosses a runtime's
 * stdin/stdout (one frame per line) and an agent session channel (one frame per {@code
 * STREAM_AGENT} data). {@link #parse} admits a frame from a given source: it checks the size before
 * decoding, the type against what that source may send, every member's type and bounds, and keeps
 * only the members the type defines.
 */
public final class AgentFrames {
  /** The largest frame, in bytes of JSON (a runtime's line without its new line). */
  public static final int MAX_FRAME_BYTES = 48 * 1024;

  /**
   * The largest frame from the daemon: a runtime's or a client's frame once numbered ({@code "seq"}
   * added; re-encoding never lengthens the rest).
   */
  public static final int MAX_NUMBERED_FRAME_BYTES = MAX_FRAME_BYTES + 64;

  /** Ids (tool calls, approvals) and names: short strings. */
  public static final int MAX_ID = 128;

  /** An inbox item's bounds (the control plane's, docs/agents.md "Inbox"). */
  public static final int MAX_INBOX_TEXT = 4096;

  public static final int MAX_INBOX_OPTIONS = 20;
  public static final int MAX_INBOX_OPTION = 200;
  public static final long MIN_INBOX_DEADLINE_S = 10;
  public static final long MAX_INBOX_DEADLINE_S = 7L * 24 * 3600;

  private static final Pattern UUID_TEXT =
      Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  private static final Pattern CODE = Pattern.compile("[a-z][a-z0-9_]{0,31}");

  /** Who sent the frame, which decides the types it may have. */
  public enum Source {
    /** a runtime, on its stdout: never numbered (the daemon numbers frames) */
    RUNTIME,
    /** a watching client, on the channel: prompts and approvals only */
    CLIENT,
    /** the daemon, to a client: session frames numbered, answers and notices not */
    DAEMON
  }

  /** Every frame type, by its wire name. */
  public enum Type {
    STATUS("status", true, true, false),
    OUTPUT("output", true, true, false),
    TOOL_CALL("tool_call", true, true, false),
    TOOL_RESULT("tool_result", true, true, false),
    APPROVAL_REQUEST("approval_request", true, true, false),
    INBOX_REQUEST("inbox_request", true, true, false),
    INBOX_RAISED("inbox_raised", true, false, false),
    INBOX_DECISION("inbox_decision", true, false, false),
    PROMPT("prompt", true, false, true),
    APPROVAL("approval", true, false, true),
    EXIT("exit", true, false, false),
    NOTICE("notice", false, false, false),
    SESSIONS("sessions", false, false, false),
    PAGE("page", false, false, false);

    private final String wire;
    private final boolean session;
    private final boolean fromRuntime;
    private final boolean fromClient;

    Type(String wire, boolean session, boolean fromRuntime, boolean fromClient) {
      this.wire = wire;
      this.session = session;
      this.fromRuntime = fromRuntime;
      this.fromClient = fromClient;
    }

    public String wire() {
      return wire;
    }

    /** Part of the session (numbered, kept in its transcript). */
    public boolean session() {
      return session;
    }

    static Type of(String wire) {
      for (Type t : values()) {
        if (t.wire.equals(wire)) {
          return t;
        }
      }
      return null;
    }

    boolean allowedFrom(Source s) {
      return switch (s) {
        case RUNTIME -> fromRuntime;
        case CLIENT -> fromClient;
        case DAEMON -> true;
      };
    }
  }

  /** Why a frame was refused; {@link #wire()} is the code a notice or status carries. */
  public enum Refusal {
    TRUNCATED,
    OVERSIZED,
    MALFORMED,
    UNKNOWN_TYPE,
    NOT_ALLOWED,
    BAD_FIELD,
    REPLAYED;

    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** A refused frame; the message names the member at fault, never its content. */
  public static final class FrameException extends Exception {
    private final Refusal refusal;

    public FrameException(Refusal refusal, String message) {
      super(refusal.wire() + ": " + message);
      this.refusal = refusal;
    }

    public Refusal refusal() {
      return refusal;
    }
  }

  private AgentFrames() {}

  /** Admits {@code bytes} as a frame from {@code from}, or says why not. */
  public static AgentFrame parse(byte[] bytes, Source from) throws FrameException {
    if (bytes.length > (from == Source.DAEMON ? MAX_NUMBERED_FRAME_BYTES : MAX_FRAME_BYTES)) {
      throw new FrameException(Refusal.OVERSIZED, bytes.length + " bytes");
    }
    JsonObject in = decode(bytes);
    Type type = in.getValue("type") instanceof String s ? Type.of(s) : null;
    if (type == null) {
      throw new FrameException(Refusal.UNKNOWN_TYPE, "no known type");
    }
    if (!type.allowedFrom(from)) {
      throw new FrameException(Refusal.NOT_ALLOWED, type.wire() + " may not come from " + from);
    }
    JsonObject out = new JsonObject().put("type", type.wire());
    long seq = 0;
    if (from == Source.DAEMON && type.session()) {
      seq = number(in, "seq", 1, Long.MAX_VALUE / 2);
      out.put("seq", seq);
    }
    members(type, in, out);
    return new AgentFrame(seq, type, out);
  }

  /** One frame's bytes as the channel message that carries it ({@code STREAM_AGENT} data). */
  public static dev.umbra.proto.channel.ChannelMessage message(byte[] frame) {
    return dev.umbra.proto.channel.ChannelMessage.newBuilder()
        .setData(
            dev.umbra.proto.channel.StreamData.newBuilder()
                .setStream(dev.umbra.proto.channel.Stream.STREAM_AGENT)
                .setBytes(com.google.protobuf.ByteString.copyFrom(frame)))
        .build();
  }

  /** A frame the daemon makes (status, notice, exit, answers), unchecked: its own members. */
  public static AgentFrame of(Type type, JsonObject members) {
    return new AgentFrame(0, type, new JsonObject().put("type", type.wire()).mergeIn(members));
  }

  private static JsonObject decode(byte[] bytes) throws FrameException {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
    } catch (CharacterCodingException e) {
      throw new FrameException(Refusal.MALFORMED, "not UTF-8");
    }
    String trimmed = text.strip();
    if (!trimmed.startsWith("{")) {
      throw new FrameException(Refusal.MALFORMED, "not a JSON object");
    }
    try {
      return new JsonObject(trimmed);
    } catch (DecodeException | ClassCastException e) {
      throw new FrameException(
          trimmed.endsWith("}") ? Refusal.MALFORMED : Refusal.TRUNCATED, "not a JSON object");
    }
  }

  /** Copies the members {@code type} defines from {@code in} to {@code out}, checked. */
  private static void members(Type type, JsonObject in, JsonObject out) throws FrameException {
    switch (type) {
      case STATUS -> {
        out.put("state", code(in, "state", true));
        optionalString(in, "message", out);
      }
      case OUTPUT, PROMPT -> out.put("text", string(in, "text", MAX_FRAME_BYTES, true));
      case TOOL_CALL -> {
        out.put("id", string(in, "id", MAX_ID, true));
        out.put("name", string(in, "name", MAX_ID, true));
        optionalString(in, "input", out);
      }
      case TOOL_RESULT -> {
        out.put("id", string(in, "id", MAX_ID, true));
        optionalString(in, "output", out);
        if (in.containsKey("error")) {
          if (!(in.getValue("error") instanceof Boolean b)) {
            throw new FrameException(Refusal.BAD_FIELD, "error must be true or false");
          }
          out.put("error", b);
        }
      }
      case APPROVAL_REQUEST -> {
        out.put("id", string(in, "id", MAX_ID, true));
        out.put("question", string(in, "question", MAX_FRAME_BYTES, true));
      }
      case APPROVAL -> {
        out.put("id", string(in, "id", MAX_ID, true));
        String answer = string(in, "answer", 16, true);
        if (!Set.of("approve", "deny").contains(answer)) {
          throw new FrameException(Refusal.BAD_FIELD, "answer must be approve or deny");
        }
        out.put("answer", answer);
      }
      case INBOX_REQUEST -> inboxRequest(in, out);
      case INBOX_RAISED -> {
        out.put("id", string(in, "id", MAX_ID, true));
        String item = string(in, "item_id", 36, true);
        if (!UUID_TEXT.matcher(item).matches()) {
          throw new FrameException(Refusal.BAD_FIELD, "item_id must be a lowercase UUID");
        }
        out.put("item_id", item);
      }
      case INBOX_DECISION -> {
        out.put("id", string(in, "id", MAX_ID, true));
        String status = code(in, "status", true);
        if (!Set.of("decided", "expired", "failed").contains(status)) {
          throw new FrameException(Refusal.BAD_FIELD, "status must be decided, expired or failed");
        }
        out.put("status", status);
        String answer = string(in, "answer", MAX_INBOX_TEXT, false);
        if (answer != null) {
          out.put("answer", answer);
        }
        if (in.containsKey("reason")) {
          out.put("reason", code(in, "reason", true));
        }
      }
      case EXIT -> out.put("code", number(in, "code", -1, 255));
      case NOTICE -> out.put("code", code(in, "code", true));
      case SESSIONS -> {
        if (!(in.getValue("sessions") instanceof JsonArray a)) {
          throw new FrameException(Refusal.BAD_FIELD, "sessions must be an array");
        }
        out.put("sessions", a);
      }
      case PAGE -> {
        out.put("next_seq", number(in, "next_seq", 1, Long.MAX_VALUE / 2));
        if (!(in.getValue("more") instanceof Boolean more)) {
          throw new FrameException(Refusal.BAD_FIELD, "more must be true or false");
        }
        out.put("more", more);
      }
    }
  }

  /**
   * A runtime's inbox request: {@code id}, {@code kind}, {@code question}, {@code options}, {@code
   * default}, {@code deadline_seconds}, within the control plane's bounds (it checks the rest: a
   * choose item's options, a default that fits the kind).
   */
  private static void inboxRequest(JsonObject in, JsonObject out) throws FrameException {
    out.put("id", string(in, "id", MAX_ID, true));
    String kind = string(in, "kind", 16, true);
    if (!Set.of("approve", "choose", "answer").contains(kind)) {
      throw new FrameException(Refusal.BAD_FIELD, "kind must be approve, choose or answer");
    }
    out.put("kind", kind);
    out.put("question", string(in, "question", MAX_INBOX_TEXT, true));
    JsonArray options = new JsonArray();
    if (in.containsKey("options")) {
      if (!(in.getValue("options") instanceof JsonArray a) || a.size() > MAX_INBOX_OPTIONS) {
        throw new FrameException(
            Refusal.BAD_FIELD, "options must be an array of at most " + MAX_INBOX_OPTIONS);
      }
      for (int i = 0; i < a.size(); i++) {
        options.add(string(new JsonObject().put("o", a.getValue(i)), "o", MAX_INBOX_OPTION, true));
      }
    }
    out.put("options", options);
    out.put("default", string(in, "default", MAX_INBOX_TEXT, true));
    out.put(
        "deadline_seconds",
        number(in, "deadline_seconds", MIN_INBOX_DEADLINE_S, MAX_INBOX_DEADLINE_S));
  }

  private static String string(JsonObject in, String member, int max, boolean required)
      throws FrameException {
    Object v = in.getValue(member);
    if (v == null && !required) {
      return null;
    }
    if (!(v instanceof String s)
        || (required && s.isEmpty())
        || s.length() > max
        || !wellFormed(s)) {
      throw new FrameException(
          Refusal.BAD_FIELD, member + " must be a string of 1 to " + max + " characters");
    }
    return s;
  }

  /** No lone surrogate (a JSON escape can make one; UTF-8 cannot carry it). */
  private static boolean wellFormed(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return false;
        }
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return false;
      }
    }
    return true;
  }

  private static void optionalString(JsonObject in, String member, JsonObject out)
      throws FrameException {
    if (in.containsKey(member)) {
      Object v = in.getValue(member);
      if (!(v instanceof String s) || !wellFormed(s)) {
        throw new FrameException(Refusal.BAD_FIELD, member + " must be a string");
      }
      out.put(member, s);
    }
  }

  private static String code(JsonObject in, String member, boolean required) throws FrameException {
    String s = string(in, member, 32, required);
    if (!CODE.matcher(s).matches()) {
      throw new FrameException(Refusal.BAD_FIELD, member + " must be a short code [a-z0-9_]");
    }
    return s;
  }

  private static long number(JsonObject in, String member, long min, long max)
      throws FrameException {
    if (!(in.getValue(member) instanceof Number n)
        || n.doubleValue() != n.longValue()
        || n.longValue() < min
        || n.longValue() > max) {
      throw new FrameException(
          Refusal.BAD_FIELD, member + " must be an integer from " + min + " to " + max);
    }
    return n.longValue();
  }

  /**
   * A watcher's view of a session's numbering: frames must come in increasing order; a frame at or
   * below the last one seen is a repeat (a re-attach overlapping what was already shown, or a
   * replay) and is refused. A step over numbers is allowed: frames the watcher asked not to get.
   */
  public static final class Sequence {
    private long last;

    public Sequence(long seenUpTo) {
      this.last = seenUpTo;
    }

    /** Admits {@code f} (a numbered session frame) or refuses it as replayed. */
    public void admit(AgentFrame f) throws FrameException {
      if (!f.type().session() || f.seq() <= last) {
        throw new FrameException(
            Refusal.REPLAYED, "frame " + f.seq() + " after " + last + " was already seen");
      }
      last = f.seq();
    }

    public long last() {
      return last;
    }
  }

  /** The types a runtime may write (for docs and tests). */
  public static Set<Type> fromRuntime() {
    Set<Type> s = EnumSet.noneOf(Type.class);
    for (Type t : Type.values()) {
      if (t.allowedFrom(Source.RUNTIME)) {
        s.add(t);
      }
    }
    return s;
  }
}
