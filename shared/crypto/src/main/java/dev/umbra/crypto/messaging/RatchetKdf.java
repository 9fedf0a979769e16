package dev.umbra.crypto.messaging;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.kdf.HkdfSha256;
import java.util.Arrays;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.KeyParameter;

/** The KDFs of X3DH and the Double Ratchet (docs/messaging-crypto.md, "KDFs"). */
final class RatchetKdf {
  static final int KEY = 32;
  private static final byte[] F = filled(KEY, (byte) 0xff);

  private RatchetKdf() {}

  /** X3DH: HKDF-SHA256(salt = 32 zero bytes, ikm = F || dh1 || ... , info) -> 32 bytes. */
  static byte[] x3dh(byte[]... dhs) {
    byte[] ikm = Bytes.concat(F, Bytes.concat(dhs));
    try {
      return HkdfSha256.derive(ikm, new byte[KEY], Bytes.utf8(CryptoConstants.MSG_X3DH_INFO), KEY);
    } finally {
      Arrays.fill(ikm, (byte) 0);
    }
  }

  /** KDF_RK: HKDF-SHA256(salt = rk, ikm = dh_out, info) -> 64 bytes: new root key || chain key. */
  static byte[][] root(byte[] rk, byte[] dhOut) {
    byte[] out =
        HkdfSha256.derive(dhOut, rk, Bytes.utf8(CryptoConstants.MSG_RATCHET_ROOT_INFO), 2 * KEY);
    return split(out, KEY);
  }

  /** KDF_CK: message key = HMAC-SHA256(ck, 0x01), next chain key = HMAC-SHA256(ck, 0x02). */
  static byte[][] chain(byte[] ck) {
    return new byte[][] {hmac(ck, (byte) 0x02), hmac(ck, (byte) 0x01)};
  }

  /**
   * The AEAD key and nonce of a message key: HKDF-SHA256(salt = 32 zero bytes, ikm = mk, info) ->
   * 56 bytes: XChaCha20-Poly1305 key (32) || nonce (24).
   */
  static byte[][] messageKeys(byte[] mk) {
    byte[] out =
        HkdfSha256.derive(
            mk,
            new byte[KEY],
            Bytes.utf8(CryptoConstants.MSG_MESSAGE_KEY_INFO),
            KEY + CryptoConstants.XCHACHA20_NONCE_LENGTH);
    return split(out, KEY);
  }

  private static byte[] hmac(byte[] key, byte input) {
    HMac mac = new HMac(new SHA256Digest());
    mac.init(new KeyParameter(key));
    mac.update(input);
    byte[] out = new byte[mac.getMacSize()];
    mac.doFinal(out, 0);
    return out;
  }

  private static byte[][] split(byte[] out, int at) {
    byte[][] parts = {Arrays.copyOf(out, at), Arrays.copyOfRange(out, at, out.length)};
    Arrays.fill(out, (byte) 0);
    return parts;
  }

  private static byte[] filled(int n, byte b) {
    byte[] out = new byte[n];
    Arrays.fill(out, b);
    return out;
  }
}
