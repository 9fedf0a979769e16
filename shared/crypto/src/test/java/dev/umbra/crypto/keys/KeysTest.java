package dev.umbra.crypto.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.MalformedInputException;
import org.junit.jupiter.api.Test;

class KeysTest {
  @Test
  void x25519PeersAgreeOnTheSameSecret() {
    X25519KeyPair a = X25519KeyPair.generate();
    X25519KeyPair b = X25519KeyPair.generate();
    assertThat(a.privateKey().agree(b.publicKey())).isEqualTo(b.privateKey().agree(a.publicKey()));
  }

  @Test
  void x25519RefusesLowOrderPeerKey() {
    X25519PrivateKey k = X25519PrivateKey.generate();
    assertThatThrownBy(() -> k.agree(X25519PublicKey.fromBytes(new byte[32])))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("low order");
  }

  @Test
  void p256PeersAgreeOnTheSameSecret() {
    P256KeyPair a = P256KeyPair.generate();
    P256KeyPair b = P256KeyPair.generate();
    assertThat(a.privateKey().agree(b.publicKey())).isEqualTo(b.privateKey().agree(a.publicKey()));
  }

  @Test
  void rejectsWrongSizedOrOffCurveKeys() {
    assertThatThrownBy(() -> X25519PublicKey.fromBytes(new byte[31]))
        .isInstanceOf(MalformedInputException.class)
        .hasMessageContaining("32 bytes");
    assertThatThrownBy(() -> Ed25519PrivateKey.fromBytes(new byte[33]))
        .isInstanceOf(MalformedInputException.class);
    byte[] offCurve = P256KeyPair.generate().publicKey().toBytes();
    offCurve[64] ^= 1;
    assertThatThrownBy(() -> P256PublicKey.fromBytes(offCurve))
        .isInstanceOf(MalformedInputException.class);
    assertThatThrownBy(() -> P256PrivateKey.fromBytes(new byte[32]))
        .isInstanceOf(MalformedInputException.class);
  }

  @Test
  void rejectsKeyPairWhosePublicKeyDoesNotMatch() {
    assertThatThrownBy(
            () ->
                new X25519KeyPair(
                    X25519PrivateKey.generate(), X25519KeyPair.generate().publicKey()))
        .isInstanceOf(MalformedInputException.class);
  }

  @Test
  void privateKeysNeverPrintTheirBytes() {
    X25519PrivateKey k = X25519PrivateKey.generate();
    assertThat(k.toString()).isEqualTo("X25519PrivateKey[redacted]");
    assertThat(X25519PrivateKey.fromBytes(k.exportPrivateBytes())).isEqualTo(k);
  }

  @Test
  void ed25519SignsAndRejectsTamperedMessages() {
    Ed25519KeyPair kp = Ed25519KeyPair.generate();
    byte[] sig = kp.privateKey().sign(new byte[] {1, 2, 3});
    kp.publicKey().verify(new byte[] {1, 2, 3}, sig);
    assertThatThrownBy(() -> kp.publicKey().verify(new byte[] {1, 2, 4}, sig))
        .isInstanceOf(AuthenticationFailedException.class);
  }

  @Test
  void ecdsaP256SignsDeterministically() {
    P256KeyPair kp = P256KeyPair.generate();
    byte[] sig = kp.privateKey().sign(new byte[] {9});
    assertThat(sig).hasSize(64).isEqualTo(kp.privateKey().sign(new byte[] {9}));
    kp.publicKey().verify(new byte[] {9}, sig);
    sig[10] ^= 1;
    assertThatThrownBy(() -> kp.publicKey().verify(new byte[] {9}, sig))
        .isInstanceOf(AuthenticationFailedException.class);
  }
}
