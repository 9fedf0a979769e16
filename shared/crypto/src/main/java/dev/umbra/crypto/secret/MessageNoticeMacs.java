package dev.umbra.crypto.secret;

import static dev.umbra.crypto.CryptoConstants.MESSAGE_NOTICE_DOMAIN;
import static dev.umbra.crypto.CryptoConstants.MESSAGE_NOTICE_MAC_LENGTH;

import dev.umbra.crypto.internal.Blake2b;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.kdf.HkdfSha256;

/**
 * The MAC of a message notice on the bus (docs/messaging.md, "Notices on the bus"): the control
 * plane instance that stored a copy proves to the instance holding the recipient's socket that the
 * notice (which may carry the stored copy) comes from an instance that knows the internal
 * credential, and is meant for this recipient's channel:
 *
 * <pre>
 * key = HKDF-SHA256(ikm = UTF-8(credential), salt = none, info = "umbra-msg-notice/v1", L = 32)
 * mac = BLAKE2b-256(key = key, lp("umbra-msg-notice/v1") lp(workspace) lp(recipient) lp(notice))
 * </pre>
 *
 * {@code workspace} and {@code recipient} are the channel's ids (lowercase UUID text), {@code
 * notice} the notice's protobuf bytes as sent: a notice MAC'd for one recipient does not verify on
 * another's channel. The key is derived for this purpose only.
 */
public final class MessageNoticeMacs {
  private MessageNoticeMacs() {}

  /** The notice key derived from the internal credential. */
  public static byte[] key(String credential) {
    return HkdfSha256.derive(
        Bytes.utf8(credential), null, Bytes.utf8(MESSAGE_NOTICE_DOMAIN), MESSAGE_NOTICE_MAC_LENGTH);
  }

  /** The MAC input of {@code notice} on the channel of {@code workspace}/{@code recipient}. */
  public static byte[] input(String workspace, String recipient, byte[] notice) {
    return Bytes.lengthPrefixed(
        Bytes.utf8(MESSAGE_NOTICE_DOMAIN), Bytes.utf8(workspace), Bytes.utf8(recipient), notice);
  }

  /** The MAC of {@code notice} on the channel of {@code workspace}/{@code recipient}. */
  public static byte[] mac(byte[] key, String workspace, String recipient, byte[] notice) {
    if (key == null || key.length != MESSAGE_NOTICE_MAC_LENGTH) {
      throw new IllegalArgumentException("a notice key is " + MESSAGE_NOTICE_MAC_LENGTH + " bytes");
    }
    return Blake2b.digest(key, MESSAGE_NOTICE_MAC_LENGTH, input(workspace, recipient, notice));
  }

  /** Whether {@code given} is the MAC of {@code notice} on that channel (constant time). */
  public static boolean verify(
      byte[] key, String workspace, String recipient, byte[] notice, byte[] given) {
    return ConstantTime.equals(mac(key, workspace, recipient, notice), given);
  }
}
