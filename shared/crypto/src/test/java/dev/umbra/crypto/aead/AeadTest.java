package dev.umbra.crypto.aead;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.testing.Mutations;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AeadTest {
  private final AeadKey key = AeadKey.generate();

  @Test
  void xchachaSealsWithRandomNoncesAndOpens() {
    byte[] a = XChaCha20Poly1305.sealWithRandomNonce(key, "ad".getBytes(), "hi".getBytes());
    assertThat(a).hasSize(24 + 2 + 16);
    assertThat(XChaCha20Poly1305.openWithPrefixedNonce(key, "ad".getBytes(), a))
        .isEqualTo("hi".getBytes());
    assertThat(XChaCha20Poly1305.sealWithRandomNonce(key, new byte[0], "hi".getBytes()))
        .isNotEqualTo(a);
  }

  @Test
  void flippingAnyBitOfXchachaMessageOrAadAndAnyTruncationFails() {
    byte[] msg = XChaCha20Poly1305.sealWithRandomNonce(key, "ad".getBytes(), "hello".getBytes());
    List<String> accepted = new ArrayList<>();
    accepted.addAll(
        Mutations.acceptedBitFlips(
            "nonce+ct+tag",
            msg,
            m -> XChaCha20Poly1305.openWithPrefixedNonce(key, "ad".getBytes(), m)));
    accepted.addAll(
        Mutations.acceptedBitFlips(
            "aad", "ad".getBytes(), a -> XChaCha20Poly1305.openWithPrefixedNonce(key, a, msg)));
    accepted.addAll(
        Mutations.acceptedTruncations(
            "msg", msg, m -> XChaCha20Poly1305.openWithPrefixedNonce(key, "ad".getBytes(), m)));
    assertThat(accepted).isEmpty();
  }

  @Test
  void aesGcmAndChachaRejectWrongNonceSizesAndShortCiphertexts() {
    assertThatThrownBy(() -> Aes256Gcm.seal(key, new byte[16], new byte[0], new byte[1]))
        .isInstanceOf(MalformedInputException.class);
    assertThatThrownBy(() -> ChaCha20Poly1305.open(key, new byte[12], new byte[0], new byte[15]))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("too short");
    byte[] ct = ChaCha20Poly1305.seal(key, new byte[12], new byte[0], new byte[5]);
    assertThatThrownBy(
            () -> ChaCha20Poly1305.open(AeadKey.generate(), new byte[12], new byte[0], ct))
        .isInstanceOf(AuthenticationFailedException.class);
    assertThatThrownBy(() -> XChaCha20Poly1305.seal(key, new byte[12], new byte[0], new byte[1]))
        .isInstanceOf(MalformedInputException.class);
  }
}
