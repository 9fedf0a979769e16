package dev.umbra.crypto.secret;

import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signatures of outgoing webhook bodies (the control plane's message notifications,
 * docs/messaging.md): {@code sha256=<hex HMAC-SHA256(secret, body)>}, so the receiver, which was
 * shown the per-member secret once, authenticates what it receives.
 */
public final class WebhookSignatures {
  /** Length of a webhook secret. */
  public static final int SECRET_BYTES = 32;

  private static final String PREFIX = "sha256=";

  private WebhookSignatures() {}

  /** A fresh random secret. */
  public static byte[] newSecret() {
    return SecureRandoms.bytes(SECRET_BYTES);
  }

  /** The header value for {@code body} under {@code secret}. */
  public static String sign(byte[] secret, byte[] body) {
    return PREFIX + HexFormat.of().formatHex(mac(secret, body));
  }

  /**
   * Whether {@code header} is the signature of {@code body} under {@code secret} (constant time).
   */
  public static boolean verify(byte[] secret, byte[] body, String header) {
    if (header == null || !header.startsWith(PREFIX)) {
      return false;
    }
    byte[] given;
    try {
      given = HexFormat.of().parseHex(header.substring(PREFIX.length()));
    } catch (IllegalArgumentException e) {
      return false;
    }
    return ConstantTime.equals(given, mac(secret, body));
  }

  private static byte[] mac(byte[] secret, byte[] body) {
    if (secret == null || secret.length != SECRET_BYTES) {
      throw new IllegalArgumentException("a webhook secret is " + SECRET_BYTES + " bytes");
    }
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(new SecretKeySpec(secret, "HmacSHA256"));
      return m.doFinal(body);
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("the JDK always provides HmacSHA256", e);
    }
  }
}
