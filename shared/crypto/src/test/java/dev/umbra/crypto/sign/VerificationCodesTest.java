package dev.umbra.crypto.sign;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VerificationCodesTest {
  private final Map<String, Object> device =
      Map.of(
          "ed25519", Ed25519KeyPair.generate().publicKey().toHex(),
          "x25519", X25519KeyPair.generate().publicKey().toHex());

  @Test
  void derivesAn80BitCodeInFourCrockfordGroups() {
    assertThat(VerificationCodes.derive(device))
        .matches("[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}");
  }

  @Test
  void dependsOnTheCanonicalPayloadOnly() {
    Map<String, Object> reordered = new LinkedHashMap<>();
    reordered.put("x25519", device.get("x25519"));
    reordered.put("ed25519", device.get("ed25519"));
    assertThat(VerificationCodes.derive(reordered)).isEqualTo(VerificationCodes.derive(device));
    Map<String, Object> other =
        Map.of(
            "ed25519",
            Ed25519KeyPair.generate().publicKey().toHex(),
            "x25519",
            device.get("x25519"));
    assertThat(VerificationCodes.derive(other)).isNotEqualTo(VerificationCodes.derive(device));
  }

  @Test
  void matchesWhatAHumanTypes() {
    String code = VerificationCodes.derive(device);
    assertThat(
            VerificationCodes.matches(
                code.toLowerCase().replace("-", " ").replace('1', 'l').replace('0', 'o'), device))
        .isTrue();
    String wrong = (code.charAt(0) == 'A' ? "B" : "A") + code.substring(1);
    assertThat(VerificationCodes.matches(wrong, device)).isFalse();
  }

  @Test
  void hasAFixedKnownAnswer() {
    // computed independently (Python hashlib): SHA-256(lp("umbra-verification-code/v1") ||
    // {"ed25519":"00..","x25519":"11.."}), first 80 bits, Crockford base32
    Map<String, Object> fixed = Map.of("ed25519", "00".repeat(32), "x25519", "11".repeat(32));
    assertThat(VerificationCodes.derive(fixed)).isEqualTo("TTZG-ZF20-S8ZY-7HN3");
  }
}
