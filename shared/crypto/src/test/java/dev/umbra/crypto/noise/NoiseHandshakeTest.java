package dev.umbra.crypto.noise;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.InvalidStateException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.UnsupportedSuiteException;
import dev.umbra.crypto.keys.X25519KeyPair;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class NoiseHandshakeTest {
  private final X25519KeyPair client = X25519KeyPair.generate();
  private final X25519KeyPair daemon = X25519KeyPair.generate();
  private final byte[] prologue = "umbra/1 ws target".getBytes(StandardCharsets.UTF_8);
  private final byte[] psk = new byte[32];

  private TransportPair[] handshake(NoiseProtocol p, byte[] initPsk, byte[] respPsk) {
    HandshakeState i = HandshakeState.initiator(p, client, daemon.publicKey(), prologue, initPsk);
    HandshakeState r = HandshakeState.responder(p, daemon, prologue, respPsk);
    assertThat(r.readMessage(i.writeMessage(new byte[] {1}))).containsExactly(1);
    assertThat(r.remoteStaticKey()).isEqualTo(client.publicKey());
    assertThat(i.readMessage(r.writeMessage(new byte[] {2}))).containsExactly(2);
    assertThat(i.handshakeHash()).isEqualTo(r.handshakeHash());
    return new TransportPair[] {i.split(), r.split()};
  }

  @Test
  void completesIkAndIkpsk2AndCarriesTransportMessagesBothWays() {
    for (NoiseProtocol p :
        List.of(NoiseProtocol.IK_25519_AESGCM_SHA256, NoiseProtocol.IKPSK2_25519_AESGCM_SHA256)) {
      byte[] key = p.pattern().usesPsk() ? psk : null;
      TransportPair[] t = handshake(p, key, key);
      assertThat(t[1].decrypt(t[0].encrypt("ls".getBytes()))).isEqualTo("ls".getBytes());
      assertThat(t[0].decrypt(t[1].encrypt("out".getBytes()))).isEqualTo("out".getBytes());
      assertThat(t[0].sentCount()).isEqualTo(1);
      assertThat(t[0].receivedCount()).isEqualTo(1);
    }
  }

  @Test
  void rejectsIkpsk2WithADifferentPsk() {
    byte[] other = psk.clone();
    other[0] = 1;
    HandshakeState i =
        HandshakeState.initiator(
            NoiseProtocol.IKPSK2_25519_AESGCM_SHA256, client, daemon.publicKey(), prologue, psk);
    HandshakeState r =
        HandshakeState.responder(NoiseProtocol.IKPSK2_25519_AESGCM_SHA256, daemon, prologue, other);
    r.readMessage(i.writeMessage(new byte[0]));
    byte[] m2 = r.writeMessage(new byte[0]);
    assertThatThrownBy(() -> i.readMessage(m2)).isInstanceOf(AuthenticationFailedException.class);
    assertThatThrownBy(i::split)
        .isInstanceOf(InvalidStateException.class)
        .hasMessageContaining("failed");
  }

  @Test
  void rejectsAHandshakeWithAnotherPrologueOrResponderKey() {
    HandshakeState i =
        HandshakeState.initiator(
            NoiseProtocol.IK_25519_AESGCM_SHA256, client, daemon.publicKey(), prologue, null);
    HandshakeState r =
        HandshakeState.responder(
            NoiseProtocol.IK_25519_AESGCM_SHA256, daemon, "other".getBytes(), null);
    byte[] m1 = i.writeMessage(new byte[0]);
    assertThatThrownBy(() -> r.readMessage(m1)).isInstanceOf(AuthenticationFailedException.class);

    HandshakeState impostor =
        HandshakeState.responder(
            NoiseProtocol.IK_25519_AESGCM_SHA256, X25519KeyPair.generate(), prologue, null);
    assertThatThrownBy(() -> impostor.readMessage(m1))
        .isInstanceOf(AuthenticationFailedException.class);
  }

  @Test
  void flippingAnyBitOfEitherHandshakeMessageFails() {
    List<String> accepted = new ArrayList<>();
    HandshakeState i0 =
        HandshakeState.initiator(
            NoiseProtocol.IK_25519_AESGCM_SHA256, client, daemon.publicKey(), prologue, null);
    byte[] m1 = i0.writeMessage("hello".getBytes());
    for (int bit = 0; bit < m1.length * 8; bit++) {
      byte[] bad = flip(m1, bit);
      HandshakeState r =
          HandshakeState.responder(NoiseProtocol.IK_25519_AESGCM_SHA256, daemon, prologue, null);
      try {
        r.readMessage(bad);
        accepted.add("m1 bit " + bit);
      } catch (CryptoException expected) {
        // rejected
      }
    }
    HandshakeState r0 =
        HandshakeState.responder(NoiseProtocol.IK_25519_AESGCM_SHA256, daemon, prologue, null);
    r0.readMessage(m1);
    byte[] m2 = r0.writeMessage("world".getBytes());
    for (int bit = 0; bit < m2.length * 8; bit += 3) {
      HandshakeState i =
          HandshakeState.builder(
                  NoiseProtocol.IK_25519_AESGCM_SHA256, HandshakeState.Role.INITIATOR)
              .localStatic(client)
              .remoteStatic(daemon.publicKey())
              .prologue(prologue)
              .build();
      i.writeMessage("hello".getBytes());
      try {
        i.readMessage(flip(m2, bit));
        accepted.add("m2 bit " + bit);
      } catch (CryptoException expected) {
        // rejected (the initiator's fresh ephemeral differs, so m2 cannot verify anyway)
      }
    }
    assertThat(accepted).isEmpty();
  }

  @Test
  void truncatedHandshakeMessagesFailCleanly() {
    HandshakeState i =
        HandshakeState.initiator(
            NoiseProtocol.IK_25519_AESGCM_SHA256, client, daemon.publicKey(), prologue, null);
    byte[] m1 = i.writeMessage(new byte[0]);
    for (int len = 0; len < m1.length; len++) {
      HandshakeState r =
          HandshakeState.responder(NoiseProtocol.IK_25519_AESGCM_SHA256, daemon, prologue, null);
      byte[] cut = Arrays.copyOf(m1, len);
      assertThatThrownBy(() -> r.readMessage(cut))
          .as("length " + len)
          .isInstanceOfAny(MalformedInputException.class, AuthenticationFailedException.class);
    }
  }

  @Test
  void tamperedOrReplayedTransportMessagesFail() {
    TransportPair[] t = handshake(NoiseProtocol.IK_25519_AESGCM_SHA256, null, null);
    byte[] ct = t[0].encrypt("payload".getBytes());
    for (int bit = 0; bit < ct.length * 8; bit++) {
      byte[] bad = flip(ct, bit);
      assertThatThrownBy(() -> t[1].decrypt(bad)).isInstanceOf(AuthenticationFailedException.class);
    }
    assertThat(t[1].decrypt(ct)).isEqualTo("payload".getBytes());
    assertThatThrownBy(() -> t[1].decrypt(ct))
        .as("replay")
        .isInstanceOf(AuthenticationFailedException.class);
    assertThatThrownBy(() -> t[1].decrypt(new byte[15]))
        .isInstanceOf(MalformedInputException.class);
  }

  @Test
  void rekeysBothSidesInStepAtTheInterval() {
    TransportPair[] t = handshake(NoiseProtocol.IK_25519_AESGCM_SHA256, null, null);
    TransportPair a = t[0].withRekeyInterval(3);
    TransportPair b = t[1].withRekeyInterval(3);
    for (int n = 0; n < 10; n++) {
      byte[] msg = new byte[] {(byte) n};
      assertThat(b.decrypt(a.encrypt(msg))).isEqualTo(msg);
    }
    // a side that did not rekey cannot read the other's messages any more
    TransportPair[] u = handshake(NoiseProtocol.IK_25519_AESGCM_SHA256, null, null);
    TransportPair rekeying = u[0].withRekeyInterval(2);
    for (int n = 0; n < 2; n++) {
      u[1].decrypt(rekeying.encrypt(new byte[1]));
    }
    byte[] afterRekey = rekeying.encrypt(new byte[1]);
    assertThatThrownBy(() -> u[1].decrypt(afterRekey))
        .isInstanceOf(AuthenticationFailedException.class);
  }

  @Test
  void explicitRekeyChangesTheKeyButNotTheCounter() {
    TransportPair[] t = handshake(NoiseProtocol.IK_25519_AESGCM_SHA256, null, null);
    t[1].decrypt(t[0].encrypt(new byte[1]));
    t[0].rekeySend();
    byte[] ct = t[0].encrypt(new byte[] {5});
    assertThat(t[0].sentCount()).isEqualTo(2);
    assertThatThrownBy(() -> t[1].decrypt(ct)).isInstanceOf(AuthenticationFailedException.class);
    t[1].rekeyReceive();
    assertThat(t[1].decrypt(ct)).containsExactly(5);
  }

  @Test
  void refusesToEncryptOrDecryptOnceTheNonceIsExhausted() {
    TransportPair[] t = handshake(NoiseProtocol.IK_25519_AESGCM_SHA256, null, null);
    t[0].sendState().setNonce(CipherState.MAX_NONCE - 1);
    t[0].withRekeyInterval(Long.MAX_VALUE).encrypt(new byte[1]); // uses nonce 2^64-2
    assertThatThrownBy(() -> t[0].encrypt(new byte[1]))
        .isInstanceOf(InvalidStateException.class)
        .hasMessageContaining("nonce exhausted");
    t[1].receiveState().setNonce(CipherState.MAX_NONCE);
    assertThatThrownBy(() -> t[1].decrypt(new byte[32]))
        .isInstanceOf(InvalidStateException.class)
        .hasMessageContaining("nonce exhausted");
  }

  @Test
  void refusesOversizedTransportMessages() {
    TransportPair[] t = handshake(NoiseProtocol.IK_25519_AESGCM_SHA256, null, null);
    assertThatThrownBy(() -> t[0].encrypt(new byte[65520]))
        .isInstanceOf(MalformedInputException.class);
    assertThatThrownBy(() -> t[1].decrypt(new byte[65536]))
        .isInstanceOf(MalformedInputException.class);
  }

  @Test
  void enforcesMessageOrderAndPskConfiguration() {
    HandshakeState i =
        HandshakeState.initiator(
            NoiseProtocol.IK_25519_AESGCM_SHA256, client, daemon.publicKey(), prologue, null);
    assertThatThrownBy(() -> i.readMessage(new byte[100]))
        .isInstanceOf(InvalidStateException.class);
    assertThatThrownBy(i::split)
        .isInstanceOf(InvalidStateException.class)
        .hasMessageContaining("not complete");
    assertThatThrownBy(
            () ->
                HandshakeState.initiator(
                    NoiseProtocol.IKPSK2_25519_AESGCM_SHA256,
                    client,
                    daemon.publicKey(),
                    prologue,
                    null))
        .isInstanceOf(InvalidStateException.class)
        .hasMessageContaining("pre-shared key");
    assertThatThrownBy(
            () ->
                HandshakeState.initiator(
                    NoiseProtocol.IK_25519_AESGCM_SHA256,
                    client,
                    daemon.publicKey(),
                    prologue,
                    psk))
        .isInstanceOf(InvalidStateException.class)
        .hasMessageContaining("takes no pre-shared key");
    assertThatThrownBy(
            () ->
                HandshakeState.initiator(
                    NoiseProtocol.IKPSK2_25519_AESGCM_SHA256,
                    client,
                    daemon.publicKey(),
                    prologue,
                    new byte[31]))
        .isInstanceOf(MalformedInputException.class);
  }

  @Test
  void parsesSupportedProtocolNamesAndRejectsOthers() {
    assertThat(NoiseProtocol.parse("Noise_IK_25519_AESGCM_SHA256"))
        .isEqualTo(NoiseProtocol.IK_25519_AESGCM_SHA256);
    assertThat(NoiseProtocol.parse("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s").name())
        .isEqualTo("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s");
    for (String bad :
        List.of(
            "Noise_XX_25519_AESGCM_SHA256",
            "Noise_IK_448_AESGCM_SHA256",
            "Noise_IK_25519_AESGCM_SHA384",
            "noise_IK_25519_AESGCM_SHA256",
            "Noise_IK_25519_aesgcm_SHA256",
            "Noise_IKpsk1_25519_AESGCM_SHA256",
            "Noise_IK_25519_AESGCM_SHA256_",
            "",
            "Noise_IK_25519_AESGCM")) {
      assertThatThrownBy(() -> NoiseProtocol.parse(bad))
          .as(bad)
          .isInstanceOf(UnsupportedSuiteException.class);
    }
  }

  static byte[] flip(byte[] in, int bit) {
    byte[] out = in.clone();
    out[bit / 8] ^= (byte) (1 << (bit % 8));
    return out;
  }
}
