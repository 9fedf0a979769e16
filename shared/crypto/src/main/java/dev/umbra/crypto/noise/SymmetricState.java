package dev.umbra.crypto.noise;

import dev.umbra.crypto.internal.Bytes;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Noise SymmetricState (spec §5.2): chaining key, handshake hash and a CipherState. */
final class SymmetricState {
  private final NoiseProtocol protocol;
  private final CipherState cipherState;
  private byte[] chainingKey;
  private byte[] handshakeHash;

  SymmetricState(NoiseProtocol protocol) {
    this.protocol = protocol;
    this.cipherState = new CipherState(protocol.cipher());
    byte[] name = protocol.name().getBytes(StandardCharsets.US_ASCII);
    int hashLen = protocol.hash().hashLength();
    handshakeHash =
        name.length <= hashLen ? Arrays.copyOf(name, hashLen) : protocol.hash().hash(name);
    chainingKey = handshakeHash.clone();
  }

  void mixKey(byte[] inputKeyMaterial) {
    byte[][] out = protocol.hash().hkdf(chainingKey, inputKeyMaterial, 2);
    chainingKey = out[0];
    cipherState.initializeKey(Arrays.copyOf(out[1], 32));
  }

  void mixHash(byte[] data) {
    handshakeHash = protocol.hash().hash(handshakeHash, data);
  }

  void mixKeyAndHash(byte[] inputKeyMaterial) {
    byte[][] out = protocol.hash().hkdf(chainingKey, inputKeyMaterial, 3);
    chainingKey = out[0];
    mixHash(out[1]);
    cipherState.initializeKey(Arrays.copyOf(out[2], 32));
  }

  byte[] encryptAndHash(byte[] plaintext) {
    byte[] ct = cipherState.encryptWithAd(handshakeHash, plaintext);
    mixHash(ct);
    return ct;
  }

  byte[] decryptAndHash(byte[] ciphertext) {
    byte[] pt = cipherState.decryptWithAd(handshakeHash, ciphertext);
    mixHash(ciphertext);
    return pt;
  }

  boolean hasKey() {
    return cipherState.hasKey();
  }

  byte[] handshakeHash() {
    return handshakeHash.clone();
  }

  /** Split(): two CipherStates, initiator-to-responder first. */
  CipherState[] split() {
    byte[][] out = protocol.hash().hkdf(chainingKey, new byte[0], 2);
    CipherState c1 = new CipherState(protocol.cipher());
    c1.initializeKey(Arrays.copyOf(out[0], 32));
    CipherState c2 = new CipherState(protocol.cipher());
    c2.initializeKey(Arrays.copyOf(out[1], 32));
    Arrays.fill(chainingKey, (byte) 0);
    return new CipherState[] {c1, c2};
  }

  @Override
  public String toString() {
    return "SymmetricState[" + protocol + ", h=" + Bytes.hex(handshakeHash) + "]";
  }
}
