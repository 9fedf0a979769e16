package dev.umbra.crypto.secret;

import static dev.umbra.crypto.CryptoConstants.BUS_SEAL_MAC_LENGTH;

import dev.umbra.crypto.internal.Blake2b;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.kdf.HkdfSha256;

/**
 * The MAC of a sealed notice on the bus (docs/webtty.md, "Takeover notices on the bus"): the
 * instance that publishes a notice whose effect closes live connections (a takeover) proves it
 * knows the internal credential, for this message type, this channel and this time:
 *
 * <pre>
 * key = HKDF-SHA256(ikm = UTF-8(credential), salt = none, info = domain, L = 32)
 * mac = BLAKE2b-256(key = key, lp(domain) lp(channel) u64be(unix_millis) lp(notice))
 * </pre>
 *
 * {@code domain} is one of the message types' strings in {@code CryptoConstants} (e.g. {@code
 * "umbra-webtty-takeover/v1"}), {@code channel} the bus channel's name as published, {@code notice}
 * the message's bytes as sent. A notice of one type does not verify as another, on another channel,
 * or at another time; the key is derived for that type only.
 */
public final class BusNoticeMacs {
  private BusNoticeMacs() {}

  /** The key of {@code domain}'s notices derived from the internal credential. */
  public static byte[] key(String credential, String domain) {
    return HkdfSha256.derive(Bytes.utf8(credential), null, Bytes.utf8(domain), BUS_SEAL_MAC_LENGTH);
  }

  /** The MAC input of {@code notice} of type {@code domain} on {@code channel} at that time. */
  public static byte[] input(String domain, String channel, long unixMillis, byte[] notice) {
    return Bytes.concat(
        Bytes.lengthPrefixed(Bytes.utf8(domain), Bytes.utf8(channel)),
        Bytes.u64be(unixMillis),
        Bytes.lengthPrefixed(notice));
  }

  /** The MAC of {@code notice} of type {@code domain} on {@code channel} at {@code unixMillis}. */
  public static byte[] mac(
      byte[] key, String domain, String channel, long unixMillis, byte[] notice) {
    if (key == null || key.length != BUS_SEAL_MAC_LENGTH) {
      throw new IllegalArgumentException("a notice key is " + BUS_SEAL_MAC_LENGTH + " bytes");
    }
    return Blake2b.digest(key, BUS_SEAL_MAC_LENGTH, input(domain, channel, unixMillis, notice));
  }

  /** Whether {@code given} is the MAC of those fields (constant time). */
  public static boolean verify(
      byte[] key, String domain, String channel, long unixMillis, byte[] notice, byte[] given) {
    return ConstantTime.equals(mac(key, domain, channel, unixMillis, notice), given);
  }
}
