package dev.umbra.crypto.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.MalformedInputException;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Umbra's canonical JSON (DESIGN.md §7): RFC 8785 (JCS) — UTF-8, object members sorted by the
 * UTF-16 code units of their names, no insignificant whitespace, JCS string escaping — with three
 * rules on top: {@code null} object members are omitted, numbers must be integers within ±(2^53−1),
 * and non-finite numbers and duplicate keys are rejected.
 *
 * <p>Values: {@link Map} (String keys), {@link Collection}, {@link String}, {@link Boolean},
 * integral {@link Number}s, {@code null}, and Jackson {@link JsonNode} trees. Anything else is
 * rejected with a {@link MalformedInputException} naming the problem.
 */
public final class CanonicalJson {
  private static final BigInteger MAX =
      BigInteger.valueOf(CryptoConstants.CANONICAL_JSON_MAX_SAFE_INTEGER);
  private static final BigInteger MIN = MAX.negate();

  /** Digits of 2^53-1 (9007199254740991). */
  private static final int MAX_INTEGER_DIGITS = 16;

  private static final JsonFactory FACTORY =
      JsonFactory.builder()
          .streamReadConstraints(
              StreamReadConstraints.builder()
                  .maxNestingDepth(CryptoConstants.CANONICAL_JSON_MAX_DEPTH)
                  .maxNumberLength(400)
                  .build())
          .build();

  private CanonicalJson() {}

  /** Canonical UTF-8 bytes of {@code value}. */
  public static byte[] encode(Object value) {
    return encodeToString(value).getBytes(StandardCharsets.UTF_8);
  }

  /** Canonical text of {@code value}. */
  public static String encodeToString(Object value) {
    StringBuilder out = new StringBuilder();
    write(out, value, 0);
    return out.toString();
  }

  /**
   * Parses JSON text and returns its canonical form; rejects duplicate keys, non-integers and
   * out-of-range numbers.
   */
  public static String canonicalize(String jsonText) {
    return encodeToString(parse(jsonText));
  }

  /** Parses UTF-8 JSON bytes and returns its canonical UTF-8 bytes. */
  public static byte[] canonicalize(byte[] utf8Json) {
    return encode(parse(utf8Json));
  }

  /**
   * Parses JSON text into plain Java values: {@link LinkedHashMap}, {@link ArrayList}, {@link
   * String}, {@link Long}, {@link Boolean} or {@code null}. Enforces the canonical rules.
   */
  public static Object parse(String jsonText) {
    try (JsonParser parser = FACTORY.createParser(jsonText)) {
      return parseDocument(parser);
    } catch (IOException e) {
      throw new MalformedInputException("invalid JSON: " + getOriginalMessageOf(e), e);
    } catch (NumberFormatException e) {
      throw numberOverflow(e);
    }
  }

  public static Object parse(byte[] utf8Json) {
    try (JsonParser parser = FACTORY.createParser(utf8Json)) {
      return parseDocument(parser);
    } catch (IOException e) {
      throw new MalformedInputException("invalid JSON: " + getOriginalMessageOf(e), e);
    } catch (NumberFormatException e) {
      throw numberOverflow(e);
    }
  }

  /**
   * Jackson throws NumberFormatException for an exponent beyond int ({@code 1e9999999999}; found by
   * fuzzing).
   */
  private static MalformedInputException numberOverflow(NumberFormatException e) {
    return new MalformedInputException("invalid JSON: a number beyond the parser's range", e);
  }

  private static String getOriginalMessageOf(IOException e) {
    return e instanceof com.fasterxml.jackson.core.JsonProcessingException j
        ? j.getOriginalMessage()
        : e.getMessage();
  }

  private static Object parseDocument(JsonParser parser) throws IOException {
    JsonToken first = parser.nextToken();
    if (first == null) {
      throw new MalformedInputException("invalid JSON: empty input");
    }
    Object value = parseValue(parser, first);
    if (parser.nextToken() != null) {
      throw new MalformedInputException("invalid JSON: trailing content after the top-level value");
    }
    return value;
  }

  private static Object parseValue(JsonParser parser, JsonToken token) throws IOException {
    switch (token) {
      case START_OBJECT -> {
        Map<String, Object> map = new LinkedHashMap<>();
        JsonToken t;
        while ((t = parser.nextToken()) == JsonToken.FIELD_NAME) {
          String name = wellFormed(parser.currentName());
          Object member = parseValue(parser, parser.nextToken());
          if (map.containsKey(name)) {
            throw new MalformedInputException("duplicate key in JSON object: \"" + name + "\"");
          }
          map.put(name, member);
        }
        if (t != JsonToken.END_OBJECT) {
          throw new MalformedInputException("invalid JSON object");
        }
        return map;
      }
      case START_ARRAY -> {
        List<Object> list = new ArrayList<>();
        JsonToken t;
        while ((t = parser.nextToken()) != JsonToken.END_ARRAY) {
          if (t == null) {
            throw new MalformedInputException("invalid JSON: unterminated array");
          }
          list.add(parseValue(parser, t));
        }
        return list;
      }
      case VALUE_STRING -> {
        return wellFormed(parser.getText());
      }
      case VALUE_NUMBER_INT -> {
        return checkedInteger(parser.getBigIntegerValue());
      }
      case VALUE_NUMBER_FLOAT -> {
        return checkedInteger(parser.getDecimalValue());
      }
      case VALUE_TRUE -> {
        return Boolean.TRUE;
      }
      case VALUE_FALSE -> {
        return Boolean.FALSE;
      }
      case VALUE_NULL -> {
        return null;
      }
      default -> throw new MalformedInputException("invalid JSON token: " + token);
    }
  }

  /**
   * Checks the scale before converting: {@code 1e999999999} is 12 bytes of JSON but 10^999999999 as
   * a BigInteger (seconds of CPU and a gigabyte string in the message, found while writing the fuzz
   * harness); the exponent alone decides that such a number is out of range.
   */
  private static long checkedInteger(BigDecimal decimal) {
    BigDecimal d = decimal.signum() == 0 ? BigDecimal.ZERO : decimal.stripTrailingZeros();
    if (d.scale() > 0) {
      throw new MalformedInputException("canonical JSON numbers must be integers");
    }
    if ((long) d.precision() - d.scale() > MAX_INTEGER_DIGITS) {
      throw new MalformedInputException("canonical JSON integer out of range ±(2^53-1)");
    }
    return checkedInteger(d.toBigIntegerExact());
  }

  /**
   * Refuses a string with an unpaired surrogate ({@code "\ud800"}) when parsing, as encoding does:
   * a parsed value always has a canonical form (found by the fuzz harness).
   */
  private static String wellFormed(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new MalformedInputException("canonical JSON string contains an unpaired surrogate");
      }
    }
    return s;
  }

  private static long checkedInteger(BigInteger value) {
    if (value.compareTo(MAX) > 0 || value.compareTo(MIN) < 0) {
      throw new MalformedInputException("canonical JSON integer out of range ±(2^53-1): " + value);
    }
    return value.longValueExact();
  }

  private static void write(StringBuilder out, Object value, int depth) {
    if (depth > CryptoConstants.CANONICAL_JSON_MAX_DEPTH) {
      throw new MalformedInputException(
          "canonical JSON nested deeper than " + CryptoConstants.CANONICAL_JSON_MAX_DEPTH);
    }
    if (value == null) {
      out.append("null");
    } else if (value instanceof JsonNode node) {
      writeNode(out, node, depth);
    } else if (value instanceof String s) {
      writeString(out, s);
    } else if (value instanceof Boolean b) {
      out.append(b ? "true" : "false");
    } else if (value instanceof Number n) {
      out.append(integerOf(n));
    } else if (value instanceof Map<?, ?> map) {
      TreeMap<String, Object> sorted = new TreeMap<>();
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!(e.getKey() instanceof String key)) {
          throw new MalformedInputException(
              "canonical JSON object keys must be strings, got " + describe(e.getKey()));
        }
        if (e.getValue() != null) {
          sorted.put(key, e.getValue());
        }
      }
      writeObject(out, sorted, depth);
    } else if (value instanceof Collection<?> list) {
      writeArray(out, list.iterator(), depth);
    } else if (value instanceof Object[] array) {
      writeArray(out, List.of(array).iterator(), depth);
    } else {
      throw new MalformedInputException("cannot encode " + describe(value) + " as canonical JSON");
    }
  }

  private static void writeNode(StringBuilder out, JsonNode node, int depth) {
    switch (node.getNodeType()) {
      case NULL, MISSING -> out.append("null");
      case BOOLEAN -> out.append(node.booleanValue() ? "true" : "false");
      case STRING -> writeString(out, node.textValue());
      case NUMBER -> {
        if (node.isIntegralNumber()) {
          out.append(checkedInteger(node.bigIntegerValue()));
        } else if (node.isDouble() || node.isFloat()) {
          out.append(integerOf(node.doubleValue()));
        } else {
          out.append(checkedInteger(node.decimalValue()));
        }
      }
      case ARRAY -> writeArray(out, node.elements(), depth);
      case OBJECT -> {
        TreeMap<String, Object> sorted = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
          if (!e.getValue().isNull()) {
            sorted.put(e.getKey(), e.getValue());
          }
        }
        writeObject(out, sorted, depth);
      }
      default ->
          throw new MalformedInputException(
              "cannot encode JSON node of type " + node.getNodeType());
    }
  }

  private static void writeObject(StringBuilder out, TreeMap<String, Object> sorted, int depth) {
    out.append('{');
    boolean first = true;
    for (Map.Entry<String, Object> e : sorted.entrySet()) {
      if (!first) {
        out.append(',');
      }
      first = false;
      writeString(out, e.getKey());
      out.append(':');
      write(out, e.getValue(), depth + 1);
    }
    out.append('}');
  }

  private static void writeArray(StringBuilder out, Iterator<?> items, int depth) {
    out.append('[');
    boolean first = true;
    while (items.hasNext()) {
      if (!first) {
        out.append(',');
      }
      first = false;
      write(out, items.next(), depth + 1);
    }
    out.append(']');
  }

  private static long integerOf(Number n) {
    if (n instanceof Long || n instanceof Integer || n instanceof Short || n instanceof Byte) {
      return checkedInteger(BigInteger.valueOf(n.longValue()));
    }
    if (n instanceof BigInteger b) {
      return checkedInteger(b);
    }
    if (n instanceof BigDecimal d) {
      return checkedInteger(d);
    }
    if (n instanceof Double || n instanceof Float) {
      double d = n.doubleValue();
      if (!Double.isFinite(d)) {
        throw new MalformedInputException("canonical JSON rejects non-finite number " + d);
      }
      return checkedInteger(new BigDecimal(d));
    }
    throw new MalformedInputException("cannot encode number type " + n.getClass().getName());
  }

  /** JCS / ECMAScript string escaping; rejects unpaired surrogates (not valid Unicode). */
  private static void writeString(StringBuilder out, String s) {
    JsonEscapes.appendQuoted(out, s, JsonEscapes.Style.CANONICAL);
  }

  private static String describe(Object o) {
    return o == null ? "null" : o.getClass().getName();
  }
}
