package dev.umbra.crypto.webtty;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.internal.PublicBytes;
import dev.umbra.crypto.secret.SecureRandoms;

/**
 * The random 16-byte id of a WebTTY session's payload key; public, carried in frames and grants.
 */
public final class PayloadKeyId extends PublicBytes {
  private PayloadKeyId(byte[] bytes) {
    super(bytes, CryptoConstants.WEBTTY_PAYLOAD_KEY_ID_LENGTH, "WebTTY payload key id");
  }

  public static PayloadKeyId generate() {
    return new PayloadKeyId(SecureRandoms.bytes(CryptoConstants.WEBTTY_PAYLOAD_KEY_ID_LENGTH));
  }

  public static PayloadKeyId fromBytes(byte[] bytes) {
    return new PayloadKeyId(bytes);
  }

  public static PayloadKeyId fromHex(String hex) {
    return new PayloadKeyId(Bytes.unhex(hex));
  }
}
