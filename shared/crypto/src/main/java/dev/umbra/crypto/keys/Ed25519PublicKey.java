package dev.umbra.crypto.keys;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.internal.PublicBytes;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * An Ed25519 public key (32-byte compressed point, RFC 8032). Point validity is checked when
 * verifying.
 */
public final class Ed25519PublicKey extends PublicBytes {
  private Ed25519PublicKey(byte[] bytes) {
    super(bytes, CryptoConstants.ED25519_KEY_LENGTH, "Ed25519 public key");
  }

  public static Ed25519PublicKey fromBytes(byte[] bytes) {
    return new Ed25519PublicKey(bytes);
  }

  public static Ed25519PublicKey fromHex(String hex) {
    return new Ed25519PublicKey(Bytes.unhex(hex));
  }

  /**
   * Verifies a pure Ed25519 signature (RFC 8032, with Bouncy Castle's checks: canonical S, valid
   * points). Throws {@link AuthenticationFailedException} when it does not verify.
   */
  public void verify(byte[] message, byte[] signature) {
    boolean ok;
    try {
      ok =
          signature != null
              && signature.length == Ed25519.SIGNATURE_SIZE
              && Ed25519.verify(signature, 0, raw(), 0, message, 0, message.length);
    } catch (RuntimeException e) {
      ok = false;
    }
    if (!ok) {
      throw new AuthenticationFailedException("Ed25519 signature does not verify");
    }
  }
}
