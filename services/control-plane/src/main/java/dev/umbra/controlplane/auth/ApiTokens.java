package dev.umbra.controlplane.auth;

import dev.umbra.crypto.secret.SecureRandoms;
import java.util.Optional;

/**
 * The API token format: {@code umb_} + a 16-character lookup id (96 random bits) + a 43-character
 * secret (256 random bits), all unpadded base64url, 63 characters in all. The lookup id finds the
 * row; only the secret's Argon2id hash is stored.
 */
public final class ApiTokens {
  public static final String PREFIX = "umb_";
  public static final int LOOKUP_CHARS = 16;
  public static final int SECRET_CHARS = 43;
  public static final int LENGTH = PREFIX.length() + LOOKUP_CHARS + SECRET_CHARS;

  private ApiTokens() {}

  /** A parsed token; {@link #toString()} never shows the secret. */
  public record Parsed(String lookupId, String secret) {
    @Override
    public String toString() {
      return "ApiToken[" + lookupId + ", secret redacted]";
    }
  }

  /** A new random token, as shown once to its creator. */
  public static String generate() {
    String lookup = SecureRandoms.urlSafeToken(12);
    String secret = SecureRandoms.urlSafeToken(32);
    return PREFIX + lookup + secret;
  }

  public static Optional<Parsed> parse(String token) {
    if (token == null || token.length() != LENGTH || !token.startsWith(PREFIX)) {
      return Optional.empty();
    }
    for (int i = PREFIX.length(); i < LENGTH; i++) {
      char c = token.charAt(i);
      boolean ok =
          (c >= 'A' && c <= 'Z')
              || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9')
              || c == '-'
              || c == '_';
      if (!ok) {
        return Optional.empty();
      }
    }
    int split = PREFIX.length() + LOOKUP_CHARS;
    return Optional.of(new Parsed(token.substring(PREFIX.length(), split), token.substring(split)));
  }
}
