package dev.umbra.crypto.sign;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.UnsupportedSuiteException;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.P256KeyPair;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CanonicalJsonSignaturesTest {
  @Test
  void ed25519SignatureCoversTheCanonicalFormNotKeyOrder() {
    Ed25519KeyPair kp = Ed25519KeyPair.generate();
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("b", 1);
    a.put("a", "x");
    Map<String, Object> b = new LinkedHashMap<>();
    b.put("a", "x");
    b.put("b", 1);
    byte[] sig = CanonicalJsonSignatures.signEd25519(kp.privateKey(), a);
    CanonicalJsonSignatures.verifyEd25519(kp.publicKey(), b, sig);
    assertThatThrownBy(
            () ->
                CanonicalJsonSignatures.verifyEd25519(
                    kp.publicKey(), Map.of("a", "x", "b", 2), sig))
        .isInstanceOf(AuthenticationFailedException.class);
  }

  @Test
  void ecdsaP256SignatureVerifiesAndRejectsOtherKeys() {
    P256KeyPair kp = P256KeyPair.generate();
    byte[] sig = CanonicalJsonSignatures.signEcdsaP256(kp.privateKey(), Map.of("device", "d1"));
    CanonicalJsonSignatures.verifyEcdsaP256(kp.publicKey(), Map.of("device", "d1"), sig);
    assertThatThrownBy(
            () ->
                CanonicalJsonSignatures.verifyEcdsaP256(
                    P256KeyPair.generate().publicKey(), Map.of("device", "d1"), sig))
        .isInstanceOf(AuthenticationFailedException.class);
  }

  @Test
  void rejectsUnknownSignatureAlgorithmNames() {
    assertThat(SignatureAlgorithm.fromWireName("ed25519")).isEqualTo(SignatureAlgorithm.ED25519);
    assertThatThrownBy(() -> SignatureAlgorithm.fromWireName("Ed25519"))
        .isInstanceOf(UnsupportedSuiteException.class);
    assertThatThrownBy(() -> SignatureAlgorithm.fromWireName("rsa"))
        .isInstanceOf(UnsupportedSuiteException.class);
  }
}
