package dev.umbra.crypto.json;

/**
 * The two-character escapes of a JSON string (RFC 8259 §7), in one place for the canonical encoder
 * ({@link CanonicalJson}) and the clients' JSON text. Other control characters take a {@code \\u}
 * escape, whose hex case each encoder chooses (lower in canonical JSON, upper as Jackson writes).
 */
public final class JsonEscapes {
  private JsonEscapes() {}

  /** The short escape of {@code c} ({@code \"}, {@code \\}, {@code \b} ...), or null if none. */
  public static String shortEscape(char c) {
    return switch (c) {
      case '"' -> "\\\"";
      case '\\' -> "\\\\";
      case '\b' -> "\\b";
      case '\f' -> "\\f";
      case '\n' -> "\\n";
      case '\r' -> "\\r";
      case '\t' -> "\\t";
      default -> null;
    };
  }
}
