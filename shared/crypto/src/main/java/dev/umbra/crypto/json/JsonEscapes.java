package dev.umbra.crypto.json;

import dev.umbra.crypto.MalformedInputException;

/**
 * JSON string escaping (RFC 8259 §7) in one place for the canonical encoder ({@link CanonicalJson})
 * and the clients' JSON text: the two-character escapes, and a {@code \\u} escape for other control
 * characters, whose hex case each encoder chooses ({@link Style}).
 */
public final class JsonEscapes {
  private JsonEscapes() {}

  /** How a string is written beyond the escapes both encoders share. */
  public enum Style {
    /** JCS / ECMAScript: lower-case hex; an unpaired surrogate is refused (not valid Unicode). */
    CANONICAL("0123456789abcdef", true),
    /** As Jackson writes: upper-case hex; everything else as is. */
    JACKSON("0123456789ABCDEF", false);

    private final String hex;
    private final boolean pairedSurrogatesOnly;

    Style(String hex, boolean pairedSurrogatesOnly) {
      this.hex = hex;
      this.pairedSurrogatesOnly = pairedSurrogatesOnly;
    }
  }

  /**
   * Appends {@code s} to {@code out} as a quoted JSON string in {@code style}.
   *
   * @throws MalformedInputException in {@link Style#CANONICAL}, for an unpaired surrogate
   */
  public static void appendQuoted(StringBuilder out, String s, Style style) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      String escape = shortEscape(c);
      if (escape != null) {
        out.append(escape);
      } else if (c < 0x20) {
        out.append("\\u00").append(style.hex.charAt(c >> 4)).append(style.hex.charAt(c & 0xF));
      } else if (style.pairedSurrogatesOnly && Character.isSurrogate(c)) {
        if (!Character.isHighSurrogate(c)
            || i + 1 >= s.length()
            || !Character.isLowSurrogate(s.charAt(i + 1))) {
          throw new MalformedInputException("canonical JSON string contains an unpaired surrogate");
        }
        out.append(c).append(s.charAt(++i));
      } else {
        out.append(c);
      }
    }
    out.append('"');
  }

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
