package dev.umbra.client.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link JsonText} reads and writes what Vert.x's Jackson codec does (for the values the clients
 * exchange), and refuses what is not strict JSON or exceeds a limit.
 */
class JsonTextTest {

  @Test
  void parsesToTheValueTypesOfVertxsCodec() {
    String text =
        "{\"s\":\"a\\u00e9\\n\\\"\",\"i\":42,\"neg\":-7,\"l\":4294967296,\"big\":123456789012345678901234567890,"
            + "\"d\":1.5,\"e\":2E3,\"t\":true,\"f\":false,\"n\":null,\"a\":[1,{\"x\":[]}],\"o\":{}}";
    JsonObject ours = JsonText.parseObject(text);
    JsonObject theirs = new JsonObject(text);
    assertThat(ours).isEqualTo(theirs);
    for (String key : theirs.fieldNames()) {
      Object a = ours.getMap().get(key);
      Object b = theirs.getMap().get(key);
      assertThat(a == null ? null : a.getClass())
          .as(key)
          .isEqualTo(b == null ? null : b.getClass());
    }
    assertThat(ours.getMap()).isInstanceOf(LinkedHashMap.class);
    assertThat(ours.getValue("big")).isEqualTo(new BigInteger("123456789012345678901234567890"));
    assertThat(ours.getJsonArray("a").getJsonObject(1).getJsonArray("x")).isEmpty();
    assertThat(JsonText.parse("[1,2]")).isEqualTo(new JsonArray().add(1).add(2));
    assertThat(JsonText.parse(" \"x\" ")).isEqualTo("x");
    assertThat(JsonText.parse("9223372036854775807")).isEqualTo(Long.MAX_VALUE);
    assertThat(JsonText.parse("-2147483648")).isEqualTo(Integer.MIN_VALUE);
    assertThat(JsonText.parse("-9223372036854775809"))
        .isEqualTo(new BigInteger("-9223372036854775809"));
    assertThat(JsonText.parse("\"\\ud83d\\ude00\"")).isEqualTo("\uD83D\uDE00");
  }

  @Test
  void refusesWhatIsNotStrictJson() {
    for (String bad :
        List.of(
            "",
            " ",
            "{",
            "}",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{a:1}",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "+1",
            "tru",
            "nul",
            "[1 2]",
            "{\"a\":1}x",
            "\"a",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\u12g4\"",
            "\"a\nb\"",
            "NaN",
            "Infinity",
            "1e999",
            "/* c */ 1",
            "{\"a\":1,\"a\":2}",
            "'a'",
            "[\"a\"]]")) {
      assertThatThrownBy(() -> JsonText.parse(bad))
          .as(bad)
          .isInstanceOf(JsonText.MalformedJsonException.class);
    }
    assertThatThrownBy(() -> JsonText.parseObject("[]"))
        .isInstanceOf(JsonText.MalformedJsonException.class);
  }

  @Test
  void boundsNestingLengthAndNumbers() {
    assertThat(JsonText.parse("[".repeat(JsonText.MAX_DEPTH) + "]".repeat(JsonText.MAX_DEPTH)))
        .isInstanceOf(JsonArray.class);
    assertThatThrownBy(
            () ->
                JsonText.parse(
                    "[".repeat(JsonText.MAX_DEPTH + 1) + "]".repeat(JsonText.MAX_DEPTH + 1)))
        .isInstanceOf(JsonText.MalformedJsonException.class)
        .hasMessageContaining("deeper");
    // a deep document is refused by its depth, not by the stack
    assertThatThrownBy(() -> JsonText.parse("{\"a\":".repeat(100_000)))
        .isInstanceOf(JsonText.MalformedJsonException.class)
        .hasMessageContaining("deeper");
    assertThatThrownBy(() -> JsonText.parse("\"" + "a".repeat(JsonText.MAX_CHARS) + "\""))
        .isInstanceOf(JsonText.MalformedJsonException.class)
        .hasMessageContaining("longer");
    assertThat(JsonText.parse("1".repeat(JsonText.MAX_NUMBER_CHARS)))
        .isInstanceOf(BigInteger.class);
    assertThatThrownBy(() -> JsonText.parse("1".repeat(JsonText.MAX_NUMBER_CHARS + 1)))
        .isInstanceOf(JsonText.MalformedJsonException.class)
        .hasMessageContaining("number longer");
  }

  @Test
  void encodesAsVertxDoesCompactAndPretty() {
    List<Object> samples =
        new ArrayList<>(
            List.of(
                new JsonObject(),
                new JsonArray(),
                new JsonObject().put("a", new JsonObject()).put("b", new JsonArray()),
                new JsonObject()
                    .put(
                        "items",
                        new JsonArray()
                            .add(new JsonObject().put("id", "x").put("n", 1))
                            .add(new JsonObject().put("id", "y"))),
                new JsonObject()
                    .put("ctl", "\u0000\u0001\u001f\b\f\n\r\t\"\\/\u007f\u00e9\uD83D\uDE00")
                    .put("d", 0.1)
                    .put("l", Long.MIN_VALUE)
                    .put("f", 1.5f)
                    .put("big", new BigInteger("99999999999999999999"))
                    .put("t", true)
                    .put("n", (Object) null)
                    .put("e", 1e300)
                    .put("tiny", 4.9e-324)));
    Random random = new Random(15);
    for (int i = 0; i < 300; i++) {
      samples.add(randomValue(random, 0));
    }
    for (Object v : samples) {
      assertThat(JsonText.encode(v)).isEqualTo(Json.CODEC.toString(v, false));
      assertThat(JsonText.encodePrettily(v)).isEqualTo(Json.CODEC.toString(v, true));
      assertThat(JsonText.parse(JsonText.encode(v)))
          .isEqualTo(
              v instanceof Map<?, ?> || v instanceof List<?>
                  ? Json.decodeValue(Json.encode(v))
                  : v);
    }
  }

  @Test
  void leavesValuesItDoesNotWriteToVertx() {
    JsonObject o =
        new JsonObject()
            .put("when", java.time.Instant.EPOCH)
            .put("bytes", new byte[] {1, 2})
            .put("nan", Double.NaN);
    assertThat(JsonText.encode(o)).isEqualTo(o.encode());
    assertThat(JsonText.encodePrettily(o)).isEqualTo(o.encodePrettily());
  }

  private static Object randomValue(Random r, int depth) {
    int kind = r.nextInt(depth > 3 ? 6 : 8);
    return switch (kind) {
      case 0 -> null;
      case 1 -> r.nextBoolean();
      case 2 -> r.nextInt(3) == 0 ? (Object) r.nextLong() : (Object) r.nextInt();
      case 3 -> r.nextDouble() * Math.pow(10, r.nextInt(40) - 20);
      case 4, 5 -> {
        StringBuilder b = new StringBuilder();
        for (int i = r.nextInt(8); i > 0; i--) {
          b.append((char) (r.nextInt(4) == 0 ? r.nextInt(0x80) : r.nextInt(0xD000)));
        }
        yield b.toString();
      }
      case 6 -> {
        JsonObject o = new JsonObject();
        for (int i = r.nextInt(4); i > 0; i--) {
          o.put("k" + r.nextInt(100), randomValue(r, depth + 1));
        }
        yield o;
      }
      default -> {
        JsonArray a = new JsonArray();
        for (int i = r.nextInt(4); i > 0; i--) {
          a.add(randomValue(r, depth + 1));
        }
        yield a;
      }
    };
  }
}
