package dev.umbra.client.http;

import dev.umbra.crypto.json.JsonEscapes;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON text to and from Vert.x's {@link JsonObject}/{@link JsonArray}, without Jackson: the
 * clients' files and the services' answers are small, and loading Jackson (through Vert.x's codec)
 * cost a one-shot CLI command more than its work (docs/cli.md, "Start-up").
 *
 * <p>Parsing is RFC 8259, strict: one value and nothing after it but whitespace; no comments,
 * trailing commas, leading zeros, non-finite numbers, unescaped control characters or duplicate
 * object keys; at most {@link #MAX_DEPTH} nested arrays and objects, {@link #MAX_CHARS} characters
 * and {@link #MAX_NUMBER_CHARS} per number. The values are what Vert.x's codec gives: objects as
 * {@link LinkedHashMap} (the top one wrapped in a {@link JsonObject}), arrays as {@link ArrayList},
 * integers as {@link Integer}, {@link Long} or {@link BigInteger} (the smallest that holds them),
 * other numbers as {@link Double}.
 *
 * <p>Encoding gives the same text as Vert.x's {@code encode()} and {@code encodePrettily()}
 * (Jackson's compact form and default pretty printer) for maps, lists, strings, booleans, null and
 * finite numbers; any other value (an {@code Instant}, bytes, a non-finite double) is left to
 * Vert.x's codec.
 */
public final class JsonText {
  /** Deepest nesting of arrays and objects a parse accepts. */
  public static final int MAX_DEPTH = 64;

  /** Longest text a parse accepts. */
  public static final int MAX_CHARS = 4 * 1024 * 1024;

  /** Longest number a parse accepts (Jackson's default limit). */
  public static final int MAX_NUMBER_CHARS = 1000;

  private JsonText() {}

  /** Text that is not JSON, or exceeds a limit; the message names what and where. */
  public static final class MalformedJsonException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    MalformedJsonException(String message, int at) {
      super(message + " at character " + at);
    }
  }

  /** Parses one JSON value (see the class comment for the value types). */
  public static Object parse(String text) {
    if (text.length() > MAX_CHARS) {
      throw new MalformedJsonException("JSON text longer than " + MAX_CHARS + " characters", 0);
    }
    Parser p = new Parser(text);
    p.space();
    Object v = p.value(0);
    p.space();
    if (p.pos != text.length()) {
      throw p.error("unexpected text after the JSON value");
    }
    return v instanceof Map<?, ?> m ? wrap(m) : v instanceof List<?> l ? new JsonArray(l) : v;
  }

  /** Parses a JSON object; any other value is malformed here. */
  public static JsonObject parseObject(String text) {
    if (parse(text) instanceof JsonObject o) {
      return o;
    }
    throw new MalformedJsonException("not a JSON object", 0);
  }

  @SuppressWarnings("unchecked")
  private static JsonObject wrap(Map<?, ?> m) {
    return new JsonObject((Map<String, Object>) m);
  }

  /** Compact text, as {@link JsonObject#encode()}. */
  public static String encode(Object value) {
    StringBuilder out = new StringBuilder(128);
    if (!write(out, value, false, 0)) {
      return Json.CODEC.toString(value, false);
    }
    return out.toString();
  }

  /** Indented text, as {@link JsonObject#encodePrettily()}. */
  public static String encodePrettily(Object value) {
    StringBuilder out = new StringBuilder(256);
    if (!write(out, value, true, 0)) {
      return Json.CODEC.toString(value, true);
    }
    return out.toString();
  }

  /** Appends {@code v}; false when it holds a value only Vert.x's codec knows how to write. */
  private static boolean write(StringBuilder out, Object v, boolean pretty, int nesting) {
    if (v instanceof JsonObject o) {
      v = o.getMap();
    } else if (v instanceof JsonArray a) {
      v = a.getList();
    }
    if (v == null) {
      out.append("null");
    } else if (v instanceof String s) {
      string(out, s);
    } else if (v instanceof Boolean b) {
      out.append(b.booleanValue());
    } else if (v instanceof Integer
        || v instanceof Long
        || v instanceof Short
        || v instanceof Byte) {
      out.append(((Number) v).longValue());
    } else if (v instanceof BigInteger || v instanceof BigDecimal) {
      out.append(v);
    } else if (v instanceof Double d) {
      if (!Double.isFinite(d)) {
        return false;
      }
      out.append(d.doubleValue());
    } else if (v instanceof Float f) {
      if (!Float.isFinite(f)) {
        return false;
      }
      out.append(f.floatValue());
    } else if (v instanceof Map<?, ?> m) {
      // Jackson's default pretty printer: entries on their own lines, indented two spaces per
      // enclosing object (arrays do not indent), "key" : value; an empty object is "{ }"
      out.append('{');
      if (m.isEmpty()) {
        out.append(pretty ? " }" : "}");
        return true;
      }
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!(e.getKey() instanceof String key)) {
          return false;
        }
        if (!first) {
          out.append(',');
        }
        first = false;
        if (pretty) {
          out.append('\n').repeat(' ', 2 * (nesting + 1));
        }
        string(out, key);
        out.append(pretty ? " : " : ":");
        if (!write(out, e.getValue(), pretty, nesting + 1)) {
          return false;
        }
      }
      if (pretty) {
        out.append('\n').repeat(' ', 2 * nesting);
      }
      out.append('}');
    } else if (v instanceof List<?> l) {
      // arrays stay on one line: "[ a, b ]", an empty one "[ ]"
      out.append('[');
      if (l.isEmpty()) {
        out.append(pretty ? " ]" : "]");
        return true;
      }
      boolean first = true;
      for (Object item : l) {
        out.append(first ? (pretty ? " " : "") : (pretty ? ", " : ","));
        first = false;
        if (!write(out, item, pretty, nesting)) {
          return false;
        }
      }
      out.append(pretty ? " ]" : "]");
    } else {
      return false;
    }
    return true;
  }

  /** Jackson's escaping: quote, backslash and control characters; everything else as is. */
  private static void string(StringBuilder out, String s) {
    JsonEscapes.appendQuoted(out, s, JsonEscapes.Style.JACKSON);
  }

  private static final class Parser {
    private final String s;
    private int pos;

    Parser(String s) {
      this.s = s;
    }

    MalformedJsonException error(String what) {
      return new MalformedJsonException(what, pos);
    }

    void space() {
      while (pos < s.length()) {
        char c = s.charAt(pos);
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
          return;
        }
        pos++;
      }
    }

    Object value(int depth) {
      if (pos >= s.length()) {
        throw error("unexpected end of the JSON text");
      }
      char c = s.charAt(pos);
      switch (c) {
        case '{' -> {
          return object(depth + 1);
        }
        case '[' -> {
          return array(depth + 1);
        }
        case '"' -> {
          return string();
        }
        case 't' -> {
          return literal("true", Boolean.TRUE);
        }
        case 'f' -> {
          return literal("false", Boolean.FALSE);
        }
        case 'n' -> {
          return literal("null", null);
        }
        default -> {
          if (c == '-' || (c >= '0' && c <= '9')) {
            return number();
          }
          throw error("unexpected character '" + printable(c) + "'");
        }
      }
    }

    private static String printable(char c) {
      return c < 0x20 || c > 0x7E ? String.format("\\u%04x", (int) c) : String.valueOf(c);
    }

    private Object literal(String word, Object v) {
      if (!s.startsWith(word, pos)) {
        throw error("unexpected word");
      }
      pos += word.length();
      return v;
    }

    private Map<String, Object> object(int depth) {
      if (depth > MAX_DEPTH) {
        throw error("JSON nested deeper than " + MAX_DEPTH);
      }
      pos++; // {
      Map<String, Object> m = new LinkedHashMap<>();
      space();
      if (pos < s.length() && s.charAt(pos) == '}') {
        pos++;
        return m;
      }
      while (true) {
        space();
        if (pos >= s.length() || s.charAt(pos) != '"') {
          throw error("expected an object key");
        }
        int at = pos;
        String key = string();
        space();
        expect(':');
        space();
        Object v = value(depth);
        if (m.containsKey(key)) {
          throw new MalformedJsonException("duplicate object key", at);
        }
        m.put(key, v);
        space();
        if (pos < s.length() && s.charAt(pos) == ',') {
          pos++;
          continue;
        }
        expect('}');
        return m;
      }
    }

    private List<Object> array(int depth) {
      if (depth > MAX_DEPTH) {
        throw error("JSON nested deeper than " + MAX_DEPTH);
      }
      pos++; // [
      List<Object> l = new ArrayList<>();
      space();
      if (pos < s.length() && s.charAt(pos) == ']') {
        pos++;
        return l;
      }
      while (true) {
        space();
        l.add(value(depth));
        space();
        if (pos < s.length() && s.charAt(pos) == ',') {
          pos++;
          continue;
        }
        expect(']');
        return l;
      }
    }

    private void expect(char c) {
      if (pos >= s.length() || s.charAt(pos) != c) {
        throw error("expected '" + c + "'");
      }
      pos++;
    }

    private String string() {
      pos++; // "
      StringBuilder b = null;
      int start = pos;
      while (true) {
        if (pos >= s.length()) {
          throw error("unterminated string");
        }
        char c = s.charAt(pos);
        if (c == '"') {
          String tail = s.substring(start, pos);
          pos++;
          return b == null ? tail : b.append(tail).toString();
        }
        if (c < 0x20) {
          throw error("unescaped control character in a string");
        }
        if (c != '\\') {
          pos++;
          continue;
        }
        if (b == null) {
          b = new StringBuilder();
        }
        b.append(s, start, pos);
        pos++;
        if (pos >= s.length()) {
          throw error("unterminated string");
        }
        char e = s.charAt(pos++);
        switch (e) {
          case '"', '\\', '/' -> b.append(e);
          case 'b' -> b.append('\b');
          case 'f' -> b.append('\f');
          case 'n' -> b.append('\n');
          case 'r' -> b.append('\r');
          case 't' -> b.append('\t');
          case 'u' -> {
            if (pos + 4 > s.length()) {
              throw error("truncated \\u escape");
            }
            int cp = 0;
            for (int i = 0; i < 4; i++) {
              int d = Character.digit(s.charAt(pos + i), 16);
              if (d < 0) {
                throw error("malformed \\u escape");
              }
              cp = cp * 16 + d;
            }
            pos += 4;
            b.append((char) cp);
          }
          default -> {
            pos--;
            throw error("unknown escape '\\" + printable(e) + "'");
          }
        }
        start = pos;
      }
    }

    private Number number() {
      int start = pos;
      if (s.charAt(pos) == '-') {
        pos++;
      }
      int intStart = pos;
      digits();
      if (pos == intStart) {
        throw error("malformed number");
      }
      if (s.charAt(intStart) == '0' && pos - intStart > 1) {
        throw new MalformedJsonException("number with a leading zero", start);
      }
      boolean integral = true;
      if (pos < s.length() && s.charAt(pos) == '.') {
        integral = false;
        pos++;
        int f = pos;
        digits();
        if (pos == f) {
          throw error("malformed number");
        }
      }
      if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
        integral = false;
        pos++;
        if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
          pos++;
        }
        int e = pos;
        digits();
        if (pos == e) {
          throw error("malformed number");
        }
      }
      if (pos - start > MAX_NUMBER_CHARS) {
        throw new MalformedJsonException(
            "number longer than " + MAX_NUMBER_CHARS + " characters", start);
      }
      String text = s.substring(start, pos);
      if (!integral) {
        double d = Double.parseDouble(text);
        if (!Double.isFinite(d)) {
          throw new MalformedJsonException("number out of range", start);
        }
        return d;
      }
      int digits = pos - intStart;
      if (digits <= 9) {
        return Integer.parseInt(text);
      }
      if (digits <= 18) {
        long l = Long.parseLong(text);
        return l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE ? (Number) (int) l : (Number) l;
      }
      BigInteger big = new BigInteger(text);
      return big.bitLength() < 64 ? (Number) big.longValue() : big;
    }

    private void digits() {
      while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
        pos++;
      }
    }
  }
}
