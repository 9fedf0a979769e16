package dev.umbra.kit.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The canary scanners find a canary in every form a leak could take (text, hex, base64 in either
 * alphabet, inside longer encoded data, in any case), and nothing else.
 */
class CanaryScanTest {
  static final String CANARY = "scan-canary-00112233445566778899aabbccddeeff";

  static String base64(String s, Base64.Encoder e) {
    return e.encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aCanaryIsFoundAsTextHexAndBase64InAnyCase() {
    List<String> forms = CanaryScan.forms(CANARY);
    String hex = HexFormat.of().formatHex(CANARY.getBytes(StandardCharsets.UTF_8));
    assertThat(CanaryScan.holds("a log line: " + CANARY, forms)).isTrue();
    assertThat(CanaryScan.holds(CANARY.toUpperCase(Locale.ROOT), forms)).isTrue();
    assertThat(CanaryScan.holds("\\x" + hex, forms)).isTrue();
    assertThat(CanaryScan.holds(hex.toUpperCase(Locale.ROOT), forms)).isTrue();
    // encoded together with what follows it: the stable start of its base64 is still there
    assertThat(CanaryScan.holds(base64(CANARY + "{\"more\":1}", Base64.getEncoder()), forms))
        .isTrue();
    assertThat(CanaryScan.holds(base64(CANARY + "???>>>", Base64.getUrlEncoder()), forms)).isTrue();
    assertThat(CanaryScan.holds("scan-canary-but-another-one", forms)).isFalse();
  }

  @Test
  void severalCanariesAreLookedForAtOnceAndAShortOneByItsWholeBase64() {
    List<String> forms = CanaryScan.forms(CANARY, "short-psk");
    assertThat(forms).contains("short-psk", base64("short-psk", Base64.getEncoder()));
    assertThat(CanaryScan.holds("psk=" + base64("short-psk", Base64.getEncoder()), forms)).isTrue();
    assertThat(CanaryScan.lines("log", List.of("ok", "SHORT-PSK"), forms))
        .containsExactly("log: SHORT-PSK");
  }
}
