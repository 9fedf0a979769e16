package dev.umbra.crypto.hpke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.testing.Mutations;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HpkeTest {
  private final X25519KeyPair recipient = X25519KeyPair.generate();
  private final byte[] info = "info".getBytes();
  private final byte[] aad = "aad".getBytes();

  @Test
  void sealsAndOpensInBaseMode() {
    HpkeCiphertext c =
        Hpke.BASE_AES_256_GCM.seal(recipient.publicKey(), info, aad, "secret".getBytes());
    assertThat(Hpke.BASE_AES_256_GCM.open(recipient, c.enc(), info, aad, c.ciphertext()))
        .isEqualTo("secret".getBytes());
  }

  @Test
  void flippingAnyBitOfEncCiphertextInfoOrAadFails() {
    HpkeCiphertext c = Hpke.BASE_AES_256_GCM.seal(recipient.publicKey(), info, aad, new byte[32]);
    List<String> accepted = new ArrayList<>();
    accepted.addAll(
        Mutations.acceptedBitFlips(
            "enc",
            c.enc(),
            enc -> Hpke.BASE_AES_256_GCM.open(recipient, enc, info, aad, c.ciphertext())));
    accepted.addAll(
        Mutations.acceptedBitFlips(
            "ciphertext",
            c.ciphertext(),
            ct -> Hpke.BASE_AES_256_GCM.open(recipient, c.enc(), info, aad, ct)));
    accepted.addAll(
        Mutations.acceptedBitFlips(
            "info",
            info,
            i -> Hpke.BASE_AES_256_GCM.open(recipient, c.enc(), i, aad, c.ciphertext())));
    accepted.addAll(
        Mutations.acceptedBitFlips(
            "aad",
            aad,
            a -> Hpke.BASE_AES_256_GCM.open(recipient, c.enc(), info, a, c.ciphertext())));
    // flipping the top bit of enc's last byte changes the encoding (and so the KEM context) even
    // though
    // X25519 ignores that bit, so it must fail too
    assertThat(accepted).isEmpty();
  }

  @Test
  void truncatedEncOrCiphertextFailsCleanly() {
    HpkeCiphertext c = Hpke.BASE_AES_256_GCM.seal(recipient.publicKey(), info, aad, new byte[32]);
    assertThat(
            Mutations.acceptedTruncations(
                "enc",
                c.enc(),
                enc -> Hpke.BASE_AES_256_GCM.open(recipient, enc, info, aad, c.ciphertext())))
        .isEmpty();
    assertThat(
            Mutations.acceptedTruncations(
                "ct",
                c.ciphertext(),
                ct -> Hpke.BASE_AES_256_GCM.open(recipient, c.enc(), info, aad, ct)))
        .isEmpty();
    assertThatThrownBy(
            () -> Hpke.BASE_AES_256_GCM.open(recipient, new byte[31], info, aad, c.ciphertext()))
        .isInstanceOf(MalformedInputException.class);
  }

  @Test
  void anotherRecipientCannotOpen() {
    HpkeCiphertext c = Hpke.BASE_AES_256_GCM.seal(recipient.publicKey(), info, aad, new byte[32]);
    assertThatThrownBy(
            () ->
                Hpke.BASE_AES_256_GCM.open(
                    X25519KeyPair.generate(), c.enc(), info, aad, c.ciphertext()))
        .isInstanceOf(AuthenticationFailedException.class);
  }

  @Test
  void rejectsUnknownAeadIds() {
    assertThatThrownBy(() -> HpkeAead.fromId(0xFFFF))
        .isInstanceOf(dev.umbra.crypto.UnsupportedSuiteException.class);
  }
}
