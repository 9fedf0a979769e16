package dev.umbra.crypto.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A private key belongs to a public key only when it is its own half, of the same kind. */
class KeyPairsTest {
  static KeyPair pair(String algorithm) throws Exception {
    return KeyPairGenerator.getInstance(algorithm).generateKeyPair();
  }

  @ParameterizedTest
  @ValueSource(strings = {"RSA", "EC", "Ed25519"})
  void aKeyBelongsToItsOwnPublicKeyOnly(String algorithm) throws Exception {
    KeyPair a = pair(algorithm);
    KeyPair b = pair(algorithm);
    assertThat(KeyPairs.belongTogether(a.getPrivate(), a.getPublic())).isTrue();
    assertThat(KeyPairs.belongTogether(a.getPrivate(), b.getPublic())).isFalse();
  }

  @Test
  void keysOfDifferentKindsOrOfAnUncheckedKindDoNotBelong() throws Exception {
    assertThat(KeyPairs.belongTogether(pair("EC").getPrivate(), pair("RSA").getPublic())).isFalse();
    KeyPair dsa = pair("DSA");
    assertThat(KeyPairs.belongTogether(dsa.getPrivate(), dsa.getPublic())).isFalse();
  }
}
