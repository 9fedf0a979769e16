package dev.umbra.crypto.noise;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.MalformedInputException;

/**
 * The two transport CipherStates of one side of a finished handshake, with per-direction counters.
 * Transport messages use an empty associated data. Umbra's rule on top of Noise: each direction is
 * rekeyed (Noise {@code Rekey()}) right after every {@code rekeyInterval}-th message (default
 * {@link CryptoConstants#NOISE_REKEY_INTERVAL}), on both sides, since messages are delivered in
 * order. Not thread-safe: one sender and one receiver thread must synchronize.
 */
public final class TransportPair {
  private final CipherState send;
  private final CipherState receive;
  private final byte[] handshakeHash;
  private final long rekeyInterval;

  TransportPair(CipherState send, CipherState receive, byte[] handshakeHash, long rekeyInterval) {
    this.send = send;
    this.receive = receive;
    this.handshakeHash = handshakeHash.clone();
    this.rekeyInterval = rekeyInterval;
  }

  /** Same pair with another rekey interval (tests, or a stricter policy). */
  public TransportPair withRekeyInterval(long interval) {
    if (interval < 1) {
      throw new IllegalArgumentException("rekey interval must be positive");
    }
    return new TransportPair(send, receive, handshakeHash, interval);
  }

  public byte[] encrypt(byte[] plaintext) {
    if (plaintext.length > CipherState.maxPlaintext()) {
      throw new MalformedInputException(
          "Noise transport plaintext exceeds " + CipherState.maxPlaintext() + " bytes");
    }
    byte[] ct = send.encryptWithAd(new byte[0], plaintext);
    rekeyIfDue(send);
    return ct;
  }

  public byte[] decrypt(byte[] ciphertext) {
    if (ciphertext.length > CryptoConstants.NOISE_MAX_MESSAGE_LENGTH) {
      throw new MalformedInputException("Noise transport message exceeds 65535 bytes");
    }
    byte[] pt = receive.decryptWithAd(new byte[0], ciphertext);
    rekeyIfDue(receive);
    return pt;
  }

  private void rekeyIfDue(CipherState state) {
    if (Long.remainderUnsigned(state.nonce(), rekeyInterval) == 0) {
      state.rekey();
    }
  }

  /** Messages sent so far (the send counter). */
  public long sentCount() {
    return send.nonce();
  }

  /** Messages received so far (the receive counter). */
  public long receivedCount() {
    return receive.nonce();
  }

  public byte[] handshakeHash() {
    return handshakeHash.clone();
  }

  /**
   * Explicit rekey of the sending direction; the peer must call {@link #rekeyReceive()} at the same
   * point.
   */
  public void rekeySend() {
    send.rekey();
  }

  public void rekeyReceive() {
    receive.rekey();
  }

  CipherState sendState() {
    return send;
  }

  CipherState receiveState() {
    return receive;
  }
}
