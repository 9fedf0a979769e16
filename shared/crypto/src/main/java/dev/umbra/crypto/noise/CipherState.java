package dev.umbra.crypto.noise;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.InvalidStateException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.internal.JceAead;
import java.util.Arrays;

/**
 * Noise CipherState (spec §5.1): a key {@code k} (possibly empty) and a 64-bit nonce counter {@code
 * n}. Nonce 2^64−1 is reserved, so encryption and decryption are refused once the counter reaches
 * it; {@link #rekey()} replaces {@code k} without touching {@code n}. Not thread-safe.
 */
public final class CipherState {
  /** 2^64 − 1 as an unsigned long. */
  static final long MAX_NONCE = -1L;

  private final NoiseCipher cipher;
  private byte[] key;
  private JceAead aead;
  private long nonce;

  CipherState(NoiseCipher cipher) {
    this.cipher = cipher;
  }

  void initializeKey(byte[] k) {
    if (k.length != 32) {
      throw new MalformedInputException("Noise cipher key must be 32 bytes");
    }
    this.key = k.clone();
    this.aead = cipher.newKey(this.key);
    this.nonce = 0;
  }

  public boolean hasKey() {
    return key != null;
  }

  /** The next nonce to be used (unsigned). */
  public long nonce() {
    return nonce;
  }

  /** Noise {@code SetNonce}: only for tests and out-of-order transports; never reuse a nonce. */
  void setNonce(long n) {
    this.nonce = n;
  }

  public byte[] encryptWithAd(byte[] ad, byte[] plaintext) {
    if (key == null) {
      return plaintext.clone();
    }
    checkNonce();
    byte[] ct = aead.seal(cipher.nonce(nonce), ad, plaintext);
    nonce++;
    return ct;
  }

  /** On failure the nonce is not advanced (spec §5.1). */
  public byte[] decryptWithAd(byte[] ad, byte[] ciphertext) {
    if (key == null) {
      return ciphertext.clone();
    }
    checkNonce();
    byte[] pt = aead.open(cipher.nonce(nonce), ad, ciphertext);
    nonce++;
    return pt;
  }

  /**
   * Noise {@code Rekey()} (spec §4.2): k = first 32 bytes of ENCRYPT(k, 2^64−1, empty, 32 zero
   * bytes).
   */
  public void rekey() {
    if (key == null) {
      throw new InvalidStateException("cannot rekey a CipherState that has no key");
    }
    byte[] next = Arrays.copyOf(aead.seal(cipher.nonce(MAX_NONCE), new byte[0], new byte[32]), 32);
    long n = nonce;
    initializeKey(next);
    nonce = n;
  }

  private void checkNonce() {
    if (nonce == MAX_NONCE) {
      throw new InvalidStateException(
          "Noise nonce exhausted (2^64-1 messages under one key); "
              + "the channel must be re-established");
    }
  }

  static int maxPlaintext() {
    return CryptoConstants.NOISE_MAX_MESSAGE_LENGTH - CryptoConstants.AEAD_TAG_LENGTH;
  }
}
