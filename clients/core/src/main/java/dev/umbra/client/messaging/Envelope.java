package dev.umbra.client.messaging;

import dev.umbra.crypto.MalformedInputException;
import java.util.Arrays;

/**
 * The client framing of a stored copy (docs/messaging.md, "Clients"): {@code u8 type || bytes},
 * type 1 an X3DH initial message, type 2 a ratchet message. The crypto's encodings are not
 * self-distinguishing (docs/messaging-crypto.md, "Framing"); the type byte is not authenticated on
 * its own, but a wrong type makes the receiver parse the bytes as the other kind, which fails
 * (BAD_TAG, MALFORMED, IDENTITY_MISMATCH), so a server that flips it only gets the copy refused.
 */
public record Envelope(Kind kind, byte[] body) {
  /** Maximum stored copy (the server's limit). */
  public static final int MAX_LENGTH = 65_536;

  public enum Kind {
    INITIAL(1),
    RATCHET(2);

    final int code;

    Kind(int code) {
      this.code = code;
    }
  }

  public Envelope {
    body = body.clone();
  }

  @Override
  public byte[] body() {
    return body.clone();
  }

  public byte[] encode() {
    byte[] out = new byte[body.length + 1];
    out[0] = (byte) kind.code;
    System.arraycopy(body, 0, out, 1, body.length);
    if (out.length > MAX_LENGTH) {
      throw new IllegalArgumentException("message too large: " + out.length + " bytes stored");
    }
    return out;
  }

  public static Envelope parse(byte[] b) {
    if (b == null || b.length < 2) {
      throw new MalformedInputException("message envelope too short");
    }
    if (b.length > MAX_LENGTH) {
      throw new MalformedInputException("message envelope too large");
    }
    Kind k =
        switch (b[0]) {
          case 1 -> Kind.INITIAL;
          case 2 -> Kind.RATCHET;
          default -> throw new MalformedInputException("unknown message envelope type " + b[0]);
        };
    return new Envelope(k, Arrays.copyOfRange(b, 1, b.length));
  }
}
