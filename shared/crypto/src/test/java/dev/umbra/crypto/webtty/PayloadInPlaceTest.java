package dev.umbra.crypto.webtty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.InvalidStateException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.keys.X25519KeyPair;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Sealing into and opening from a larger array (a frame's bytes), as the hot output path does. */
class PayloadInPlaceTest {
  private final KeyContext context =
      new KeyContext(
          "ws-1", "srv-1", "sess-1", List.of(KeyId.of(X25519KeyPair.generate().publicKey())));
  private final PayloadKey key = PayloadKey.generate();
  private final PayloadKeyId keyId = PayloadKeyId.generate();
  private static final KeyId SERVER = KeyId.fromHex("5e".repeat(16));

  private PayloadCipher cipher() {
    return new PayloadCipher(KeyRole.OUTPUT, key, keyId, context);
  }

  @Test
  void sealIntoWritesThePayloadSealWouldMakeWithThatNonceAndNothingElse() {
    byte[] plain = "some terminal output\r\n".getBytes();
    byte[] frame = new byte[7 + plain.length + 16 + 5];
    Arrays.fill(frame, (byte) 0x55);
    byte[] nonce = cipher().sealInto(Stream.STDOUT, SERVER, 9, plain, 0, plain.length, frame, 7);
    SealedPayload same = cipher().insecureSealWithNonce(Stream.STDOUT, SERVER, 9, nonce, plain);
    assertThat(Arrays.copyOfRange(frame, 7, 7 + plain.length + 16)).isEqualTo(same.ciphertext());
    assertThat(Arrays.copyOfRange(frame, 0, 7)).containsOnly(0x55);
    assertThat(Arrays.copyOfRange(frame, frame.length - 5, frame.length)).containsOnly(0x55);
  }

  @Test
  void opensACiphertextWhereItLiesAndRefusesAChangedOrMisSizedOne() {
    PayloadCipher c = cipher();
    SealedPayload p = c.seal(Stream.STDOUT, SERVER, 4, "hello".getBytes());
    byte[] ct = p.ciphertext();
    byte[] frame = new byte[3 + ct.length + 2];
    System.arraycopy(ct, 0, frame, 3, ct.length);
    SealedPayload header =
        new SealedPayload(
            p.stream(), p.suite(), p.payloadKeyId(), SERVER, 4, p.nonce(), new byte[0], 5);
    assertThat(c.open(header, frame, 3, ct.length)).isEqualTo("hello".getBytes());
    assertThatThrownBy(() -> c.open(header, frame, 3, ct.length - 1))
        .isInstanceOf(MalformedInputException.class);
    frame[3 + ct.length - 1] ^= 1; // the tag
    assertThatThrownBy(() -> c.open(header, frame, 3, ct.length))
        .isInstanceOf(AuthenticationFailedException.class);
  }

  @Test
  void aSenderSealsIntoAFrameOnlyUnderItsNextCounter() {
    PayloadSender s = new PayloadSender(cipher(), SERVER);
    byte[] frame = new byte[64];
    s.sealInto(Stream.STDOUT, 0, new byte[3], frame, 0);
    assertThat(s.nextCounter()).isEqualTo(1);
    assertThatThrownBy(() -> s.sealInto(Stream.STDOUT, 0, new byte[3], frame, 0))
        .isInstanceOf(InvalidStateException.class);
    assertThat(s.nextCounter()).isEqualTo(1);
  }
}
