package dev.umbra.crypto.webtty;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.internal.PublicBytes;
import dev.umbra.crypto.keys.X25519PublicKey;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * A WebTTY key id: the first 16 bytes of {@code SHA-256("umbra-webtty-key-id/v1" || public_key)}
 * (DESIGN.md §5).
 */
public final class KeyId extends PublicBytes implements Comparable<KeyId> {
  private KeyId(byte[] bytes) {
    super(bytes, CryptoConstants.WEBTTY_KEY_ID_LENGTH, "WebTTY key id");
  }

  public static KeyId of(X25519PublicKey publicKey) {
    try {
      MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
      sha256.update(Bytes.utf8(CryptoConstants.WEBTTY_KEY_ID_DOMAIN));
      sha256.update(publicKey.toBytes());
      return new KeyId(Arrays.copyOf(sha256.digest(), CryptoConstants.WEBTTY_KEY_ID_LENGTH));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always provides SHA-256", e);
    }
  }

  public static KeyId fromBytes(byte[] bytes) {
    return new KeyId(bytes);
  }

  public static KeyId fromHex(String hex) {
    return new KeyId(Bytes.unhex(hex));
  }

  /**
   * Orders like the lowercase hex strings do (unsigned bytes), as in {@code
   * key_context.recipients}.
   */
  @Override
  public int compareTo(KeyId other) {
    return Arrays.compareUnsigned(raw(), other.raw());
  }
}
