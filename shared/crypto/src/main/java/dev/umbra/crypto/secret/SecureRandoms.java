package dev.umbra.crypto.secret;

import java.security.SecureRandom;
import java.util.Base64;

/** Random bytes and tokens from the platform's default {@link SecureRandom}. */
public final class SecureRandoms {
  private static final SecureRandom RANDOM = new SecureRandom();

  private SecureRandoms() {}

  /** The shared, thread-safe {@link SecureRandom} every umbra-crypto operation draws from. */
  public static SecureRandom random() {
    return RANDOM;
  }

  public static byte[] bytes(int length) {
    byte[] out = new byte[length];
    RANDOM.nextBytes(out);
    return out;
  }

  /** {@code byteLength} random bytes as unpadded base64url, e.g. the secret part of a token. */
  public static String urlSafeToken(int byteLength) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(byteLength));
  }
}
