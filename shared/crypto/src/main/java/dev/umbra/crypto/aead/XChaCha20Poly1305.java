package dev.umbra.crypto.aead;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.secret.SecureRandoms;
import java.util.Arrays;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) through Bouncy Castle's {@link
 * org.bouncycastle.crypto.modes.XChaCha20Poly1305}: 192-bit nonces, safe to draw at random.
 */
public final class XChaCha20Poly1305 {
  private XChaCha20Poly1305() {}

  public static byte[] seal(AeadKey key, byte[] nonce, byte[] aad, byte[] plaintext) {
    return run(true, key, nonce, aad, plaintext);
  }

  public static byte[] open(AeadKey key, byte[] nonce, byte[] aad, byte[] ciphertext) {
    if (ciphertext.length < CryptoConstants.AEAD_TAG_LENGTH) {
      throw new MalformedInputException("ciphertext too short: " + ciphertext.length + " bytes");
    }
    return run(false, key, nonce, aad, ciphertext);
  }

  /** Seals under a fresh random nonce; returns {@code nonce || ct || tag}. */
  public static byte[] sealWithRandomNonce(AeadKey key, byte[] aad, byte[] plaintext) {
    byte[] nonce = SecureRandoms.bytes(CryptoConstants.XCHACHA20_NONCE_LENGTH);
    return Bytes.concat(nonce, seal(key, nonce, aad, plaintext));
  }

  /** Opens {@code nonce || ct || tag} as produced by {@link #sealWithRandomNonce}. */
  public static byte[] openWithPrefixedNonce(AeadKey key, byte[] aad, byte[] nonceAndCiphertext) {
    int n = CryptoConstants.XCHACHA20_NONCE_LENGTH;
    if (nonceAndCiphertext.length < n + CryptoConstants.AEAD_TAG_LENGTH) {
      throw new MalformedInputException(
          "XChaCha20-Poly1305 message too short: " + nonceAndCiphertext.length + " bytes");
    }
    return open(
        key,
        Arrays.copyOf(nonceAndCiphertext, n),
        aad,
        Arrays.copyOfRange(nonceAndCiphertext, n, nonceAndCiphertext.length));
  }

  private static byte[] run(boolean encrypt, AeadKey key, byte[] nonce, byte[] aad, byte[] input) {
    byte[] iv = Bytes.checkedCopy(nonce, CryptoConstants.XCHACHA20_NONCE_LENGTH, "XChaCha20 nonce");
    org.bouncycastle.crypto.modes.XChaCha20Poly1305 cipher =
        new org.bouncycastle.crypto.modes.XChaCha20Poly1305();
    cipher.init(
        encrypt,
        new AEADParameters(
            new KeyParameter(key.view()), CryptoConstants.AEAD_TAG_LENGTH * 8, iv, aad));
    byte[] out = new byte[cipher.getOutputSize(input.length)];
    int len = cipher.processBytes(input, 0, input.length, out, 0);
    try {
      len += cipher.doFinal(out, len);
    } catch (InvalidCipherTextException e) {
      throw new AuthenticationFailedException("XChaCha20-Poly1305 tag does not verify");
    }
    return len == out.length ? out : Arrays.copyOf(out, len);
  }
}
