package dev.umbra.crypto.internal;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.InvalidStateException;
import dev.umbra.crypto.MalformedInputException;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.spec.AlgorithmParameterSpec;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * An AEAD key bound to a reusable JCE {@link Cipher} (AES-GCM or ChaCha20-Poly1305, 128-bit tag).
 * Ciphertexts are {@code ct || tag}. Not thread-safe: one instance per thread or session.
 */
public final class JceAead {
  /** The JCE AEADs Umbra uses. */
  public enum Algorithm {
    AES_GCM("AES/GCM/NoPadding", "AES"),
    CHACHA20_POLY1305("ChaCha20-Poly1305", "ChaCha20");

    private final String transformation;
    private final String keyAlgorithm;

    Algorithm(String transformation, String keyAlgorithm) {
      this.transformation = transformation;
      this.keyAlgorithm = keyAlgorithm;
    }
  }

  private final Algorithm algorithm;
  private final SecretKeySpec key;
  private final Cipher cipher;

  public JceAead(Algorithm algorithm, byte[] key) {
    this.algorithm = algorithm;
    if (algorithm == Algorithm.CHACHA20_POLY1305
        && key.length != CryptoConstants.CHACHA20_KEY_LENGTH) {
      throw new MalformedInputException(
          "ChaCha20-Poly1305 key must be 32 bytes, got " + key.length);
    }
    if (algorithm == Algorithm.AES_GCM
        && key.length != 16
        && key.length != 24
        && key.length != 32) {
      throw new MalformedInputException("AES key must be 16, 24 or 32 bytes, got " + key.length);
    }
    this.key = new SecretKeySpec(key, algorithm.keyAlgorithm);
    try {
      this.cipher = Cipher.getInstance(algorithm.transformation);
    } catch (GeneralSecurityException e) {
      throw new CryptoException("JCE does not provide " + algorithm.transformation, e);
    }
  }

  public byte[] seal(byte[] nonce, byte[] aad, byte[] plaintext) {
    return seal(nonce, aad, plaintext, 0, plaintext.length);
  }

  public byte[] seal(byte[] nonce, byte[] aad, byte[] plaintext, int offset, int length) {
    try {
      cipher.init(Cipher.ENCRYPT_MODE, key, spec(nonce));
      if (aad.length > 0) {
        cipher.updateAAD(aad);
      }
      return cipher.doFinal(plaintext, offset, length);
    } catch (InvalidAlgorithmParameterException e) {
      throw new InvalidStateException(
          "AEAD refused the nonce (reused with this key?): " + e.getMessage());
    } catch (GeneralSecurityException e) {
      throw new CryptoException(algorithm + " encryption failed: " + e.getMessage(), e);
    }
  }

  /**
   * Seals {@code plaintext[offset, offset + length)} into {@code out} at {@code outOffset} ({@code
   * length + 16} bytes: {@code ct || tag}), without an array of its own for the ciphertext.
   */
  public void sealInto(
      byte[] nonce,
      byte[] aad,
      byte[] plaintext,
      int offset,
      int length,
      byte[] out,
      int outOffset) {
    try {
      cipher.init(Cipher.ENCRYPT_MODE, key, spec(nonce));
      if (aad.length > 0) {
        cipher.updateAAD(aad);
      }
      cipher.doFinal(plaintext, offset, length, out, outOffset);
    } catch (InvalidAlgorithmParameterException e) {
      throw new InvalidStateException(
          "AEAD refused the nonce (reused with this key?): " + e.getMessage());
    } catch (GeneralSecurityException e) {
      throw new CryptoException(algorithm + " encryption failed: " + e.getMessage(), e);
    }
  }

  /** Decrypts {@code ct || tag}; a short input is malformed, a bad tag fails authentication. */
  public byte[] open(byte[] nonce, byte[] aad, byte[] ciphertext) {
    return open(nonce, aad, ciphertext, 0, ciphertext.length);
  }

  /** As {@link #open(byte[], byte[], byte[])} for {@code ciphertext[offset, offset + length)}. */
  public byte[] open(byte[] nonce, byte[] aad, byte[] ciphertext, int offset, int length) {
    if (length < CryptoConstants.AEAD_TAG_LENGTH) {
      throw new MalformedInputException(
          "ciphertext too short: "
              + length
              + " bytes, the tag alone is "
              + CryptoConstants.AEAD_TAG_LENGTH);
    }
    try {
      cipher.init(Cipher.DECRYPT_MODE, key, spec(nonce));
      if (aad.length > 0) {
        cipher.updateAAD(aad);
      }
      return cipher.doFinal(ciphertext, offset, length);
    } catch (AEADBadTagException e) {
      throw new AuthenticationFailedException(algorithm + " tag does not verify");
    } catch (GeneralSecurityException e) {
      throw new CryptoException(algorithm + " decryption failed: " + e.getMessage(), e);
    }
  }

  private AlgorithmParameterSpec spec(byte[] nonce) {
    if (algorithm == Algorithm.AES_GCM) {
      if (nonce.length == 0) {
        throw new MalformedInputException("AES-GCM nonce must not be empty");
      }
      return new GCMParameterSpec(CryptoConstants.AEAD_TAG_LENGTH * 8, nonce);
    }
    if (nonce.length != CryptoConstants.GCM_NONCE_LENGTH) {
      throw new MalformedInputException(
          "ChaCha20-Poly1305 nonce must be 12 bytes, got " + nonce.length);
    }
    return new IvParameterSpec(nonce);
  }
}
