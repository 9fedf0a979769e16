package dev.umbra.crypto.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.umbra.crypto.MalformedInputException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CanonicalJsonTest {
  @Test
  void refusesAHugeExponentFromTheExponentAloneWithAShortMessage() {
    // was: 10^999999 built as a BigInteger (seconds of CPU) and printed whole into the message
    for (String json :
        List.of("[1e999999]", "[-1e999999]", "[1e-999999]", "[1.5e999999]", "[1e9999999999]")) {
      assertThatThrownBy(() -> CanonicalJson.parse(json))
          .as(json)
          .isInstanceOf(MalformedInputException.class)
          .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(200));
    }
    assertThat(CanonicalJson.parse("[9.007199254740991e15, 1e3, 0e999999]"))
        .isEqualTo(List.of(9007199254740991L, 1000L, 0L));
  }

  @Test
  void refusesAnUnpairedSurrogateWhenParsingAsWhenEncoding() {
    assertThatThrownBy(() -> CanonicalJson.parse("\"\\ud800\""))
        .isInstanceOf(MalformedInputException.class);
    assertThatThrownBy(() -> CanonicalJson.parse("{\"\\udc00\":1}"))
        .isInstanceOf(MalformedInputException.class);
    assertThat(CanonicalJson.parse("\"\\ud83d\\ude00\"")).isEqualTo("\ud83d\ude00");
  }

  @Test
  void sortsKeysByUtf16CodeUnitsAndDropsWhitespace() {
    // RFC 8785 §3.2.3 ordering example: keys sorted by UTF-16 code units
    String input =
        "{\"\\u20ac\": 1, \"\\r\": 2, \"\\ud83d\\ude00\": 3, \"1\": 4, \"\\u00f6\": 5, \"\\ufb33\": 6, \"a\": [ 1 , 2 ]}";
    assertThat(CanonicalJson.canonicalize(input))
        .isEqualTo("{\"\\r\":2,\"1\":4,\"a\":[1,2],\"ö\":5,\"€\":1,\"😀\":3,\"דּ\":6}");
  }

  @Test
  void escapesStringsLikeJcs() {
    assertThat(CanonicalJson.encodeToString("\u0000\u001f\b\t\n\f\r\"\\/\u007f\u2028é"))
        .isEqualTo("\"\\u0000\\u001f\\b\\t\\n\\f\\r\\\"\\\\/\u007f\u2028é\"");
  }

  @Test
  void omitsNullMembersButKeepsNullArrayElements() {
    Map<String, Object> m = new HashMap<>();
    m.put("b", null);
    m.put("a", Arrays.asList(1, null, true));
    assertThat(CanonicalJson.encodeToString(m)).isEqualTo("{\"a\":[1,null,true]}");
    assertThat(CanonicalJson.canonicalize("{\"x\":null,\"y\":false}")).isEqualTo("{\"y\":false}");
  }

  @Test
  void encodesJacksonTreesLikeMaps() throws Exception {
    var node = new ObjectMapper().readTree("{\"z\":1,\"a\":{\"c\":\"x\",\"b\":null},\"n\":-0}");
    assertThat(CanonicalJson.encodeToString(node))
        .isEqualTo("{\"a\":{\"c\":\"x\"},\"n\":0,\"z\":1}");
  }

  @Test
  void acceptsIntegralNumbersWrittenWithFractionOrExponent() {
    assertThat(CanonicalJson.canonicalize("[1.0, 1e3, -0, 9007199254740991, -9007199254740991]"))
        .isEqualTo("[1,1000,0,9007199254740991,-9007199254740991]");
  }

  @Test
  void rejectsDuplicateKeys() {
    assertThatThrownBy(() -> CanonicalJson.canonicalize("{\"a\":1,\"a\":2}"))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("duplicate key");
    assertThatThrownBy(() -> CanonicalJson.canonicalize("{\"a\":{\"b\":1,\"b\":1}}"))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("duplicate key");
  }

  @Test
  void rejectsNonFiniteNonIntegerAndOutOfRangeNumbers() {
    for (String bad :
        List.of(
            "NaN",
            "[Infinity]",
            "[-Infinity]",
            "1.5",
            "[9007199254740992]",
            "[-9007199254740992]",
            "1e400",
            "0.1")) {
      assertThatThrownBy(() -> CanonicalJson.canonicalize(bad))
          .as(bad)
          .isInstanceOf(MalformedInputException.class);
    }
    for (Object bad :
        List.of(Double.NaN, Double.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0.5, 1L << 53)) {
      assertThatThrownBy(() -> CanonicalJson.encode(bad))
          .as(String.valueOf(bad))
          .isInstanceOf(MalformedInputException.class);
    }
  }

  @Test
  void rejectsInvalidJsonTrailingDataAndUnpairedSurrogates() {
    for (String bad :
        List.of(
            "",
            "{",
            "{\"a\":1} x",
            "[1,]",
            "{'a':1}",
            "\"\\ud800\"",
            "[\"\\udc00x\"]",
            "// c\n1")) {
      assertThatThrownBy(() -> CanonicalJson.canonicalize(bad))
          .as(bad)
          .isInstanceOf(MalformedInputException.class);
    }
  }

  @Test
  void rejectsUnsupportedJavaTypes() {
    assertThatThrownBy(() -> CanonicalJson.encode(new byte[] {1}))
        .isInstanceOf(MalformedInputException.class);
    assertThatThrownBy(() -> CanonicalJson.encode(Map.of(1, "a")))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("keys must be strings");
  }

  @Test
  void rejectsExcessiveNesting() {
    String deep = "[".repeat(200) + "]".repeat(200);
    assertThatThrownBy(() -> CanonicalJson.canonicalize(deep))
        .isInstanceOf(MalformedInputException.class);
  }
}
