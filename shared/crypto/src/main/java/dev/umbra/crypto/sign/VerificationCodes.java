package dev.umbra.crypto.sign;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.secret.ConstantTime;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Verification codes shown to humans when a device asks to be trusted (DESIGN.md §7): the first 80
 * bits of {@code SHA-256(lp("umbra-verification-code/v1") || canonical_json(payload))}, where the
 * payload holds the device's public keys, written as 16 Crockford base32 characters in four groups
 * ({@code 7K3M-Q9XD-2HBR-W4TE}). 80 bits make grinding a colliding key set infeasible for a
 * malicious server, so no commit-then-reveal round is needed.
 */
public final class VerificationCodes {
  private static final String ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; // Crockford base32
  private static final int CHARS = CryptoConstants.VERIFICATION_CODE_BITS / 5;

  private VerificationCodes() {}

  /** The code for {@code payload} (anything {@link CanonicalJson#encode} accepts). */
  public static String derive(Object payload) {
    byte[] digest;
    try {
      MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
      sha256.update(Bytes.lengthPrefixed(Bytes.utf8(CryptoConstants.VERIFICATION_CODE_DOMAIN)));
      digest = sha256.digest(CanonicalJson.encode(payload));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always provides SHA-256", e);
    }
    StringBuilder code = new StringBuilder();
    for (int i = 0; i < CHARS; i++) {
      if (i > 0 && i % 4 == 0) {
        code.append('-');
      }
      int bit = i * 5;
      int window = ((digest[bit / 8] & 0xff) << 8) | (digest[bit / 8 + 1] & 0xff);
      code.append(ALPHABET.charAt((window >>> (11 - bit % 8)) & 0x1f));
    }
    return code.toString();
  }

  /**
   * Compares a code typed or read by a human with the one derived from {@code payload}, in constant
   * time. Case, spaces and dashes are ignored, and Crockford's look-alikes (I, L → 1; O → 0) are
   * accepted.
   */
  public static boolean matches(String typed, Object payload) {
    return ConstantTime.equals(
        normalize(typed).getBytes(StandardCharsets.US_ASCII),
        normalize(derive(payload)).getBytes(StandardCharsets.US_ASCII));
  }

  private static String normalize(String code) {
    if (code == null) {
      throw new MalformedInputException("verification code is missing");
    }
    StringBuilder out = new StringBuilder();
    for (char c : code.toUpperCase(java.util.Locale.ROOT).toCharArray()) {
      switch (c) {
        case '-', ' ' -> {}
        case 'I', 'L' -> out.append('1');
        case 'O' -> out.append('0');
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
