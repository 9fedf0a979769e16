package dev.umbra.crypto.kdf;

import dev.umbra.crypto.MalformedInputException;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;

/** HKDF-SHA256 (RFC 5869) through Bouncy Castle's {@link HKDFBytesGenerator}. */
public final class HkdfSha256 {
  /** RFC 5869 limit: 255 * HashLen. */
  public static final int MAX_OUTPUT_LENGTH = 255 * 32;

  private HkdfSha256() {}

  /** Extract-then-expand; an empty or null salt means HashLen zero bytes, as RFC 5869 specifies. */
  public static byte[] derive(byte[] ikm, byte[] salt, byte[] info, int length) {
    if (length < 0 || length > MAX_OUTPUT_LENGTH) {
      throw new MalformedInputException(
          "HKDF-SHA256 output length must be 0.." + MAX_OUTPUT_LENGTH + ", got " + length);
    }
    HKDFBytesGenerator hkdf = new HKDFBytesGenerator(new SHA256Digest());
    hkdf.init(new HKDFParameters(ikm, salt == null || salt.length == 0 ? null : salt, info));
    byte[] out = new byte[length];
    hkdf.generateBytes(out, 0, length);
    return out;
  }
}
