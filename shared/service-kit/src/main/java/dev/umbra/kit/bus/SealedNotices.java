package dev.umbra.kit.bus;

import static dev.umbra.crypto.CryptoConstants.BUS_SEAL_MAC_LENGTH;
import static dev.umbra.crypto.CryptoConstants.BUS_SEAL_VERSION;
import static dev.umbra.crypto.CryptoConstants.BUS_SEAL_WINDOW_MILLIS;

import dev.umbra.crypto.secret.BusNoticeMacs;
import io.vertx.core.buffer.Buffer;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Notices of one type on the bus under a MAC (docs/webtty.md, "Takeover notices on the bus"): the
 * body is {@code 0x01 || u64be(unix_millis) || mac || notice}, {@code mac} {@link BusNoticeMacs}'
 * under the key of this type's domain, bound to the channel and the time. A receiver checks size,
 * version, MAC (constant time), time window and replay <b>before</b> it parses the notice; what it
 * refuses it drops and counts by {@link Refusal}. Whoever can publish on Redis without the internal
 * credential cannot forge one; a notice captured off the bus is refused on another channel, after
 * {@link dev.umbra.crypto.CryptoConstants#BUS_SEAL_WINDOW_MILLIS}, and a second time within it.
 */
public final class SealedNotices {
  /** Version, time and MAC. */
  public static final int HEADER = 1 + Long.BYTES + BUS_SEAL_MAC_LENGTH;

  /** MACs remembered against replays (each for twice the window); the oldest goes first. */
  static final int REMEMBERED = 4096;

  /** Why a body was refused (the metric's {@code reason} tag is {@link #tag}). */
  public enum Refusal {
    /** Longer than the type's bound: not even MAC'd. */
    OVERSIZED("oversized"),
    /** Shorter than version, time and MAC. */
    TRUNCATED("truncated"),
    /** A first byte other than {@code 0x01} (an older instance's unsealed notice among them). */
    UNKNOWN_VERSION("unknown_version"),
    /** The MAC is not that of this notice of this type on this channel at this time. */
    BAD_MAC("bad_mac"),
    /** MAC'd, but its time is further than the window from this instance's clock. */
    STALE("stale"),
    /** MAC'd and in time, but seen already. */
    REPLAYED("replayed"),
    /** Authentic, yet not a notice of this type as the sender writes it (the caller's check). */
    MALFORMED("malformed");

    public final String tag;

    Refusal(String tag) {
      this.tag = tag;
    }
  }

  /** A verified notice's bytes, or why the body was refused. */
  public record Opened(byte[] notice, Refusal refusal) {}

  private static final HexFormat HEX = HexFormat.of();

  private final byte[] key;
  private final String domain;
  private final int maxNotice;
  private final LongSupplier millis;
  private final Map<String, Long> seen = new LinkedHashMap<>();

  /**
   * Notices of type {@code domain} (a {@code CryptoConstants} domain) of at most {@code maxNotice}
   * bytes, under the key derived from {@code credential}; {@code millis} is the wall clock (Unix
   * milliseconds, e.g. {@code clock::millis}).
   */
  public SealedNotices(String credential, String domain, int maxNotice, LongSupplier millis) {
    this.key = BusNoticeMacs.key(credential, domain);
    this.domain = domain;
    this.maxNotice = maxNotice;
    this.millis = millis;
  }

  /** The body of {@code notice} to publish on {@code channel} now. */
  public Buffer seal(String channel, byte[] notice) {
    long now = millis.getAsLong();
    return Buffer.buffer(HEADER + notice.length)
        .appendByte(BUS_SEAL_VERSION)
        .appendLong(now)
        .appendBytes(BusNoticeMacs.mac(key, domain, channel, now, notice))
        .appendBytes(notice);
  }

  /** The notice of {@code body} received on {@code channel}, or why it is refused. */
  public synchronized Opened open(String channel, Buffer body) {
    if (body.length() > HEADER + maxNotice) {
      return refused(Refusal.OVERSIZED);
    }
    if (body.length() < HEADER) {
      return refused(Refusal.TRUNCATED);
    }
    if (body.getByte(0) != BUS_SEAL_VERSION) {
      return refused(Refusal.UNKNOWN_VERSION);
    }
    long at = body.getLong(1);
    byte[] mac = body.getBytes(1 + Long.BYTES, HEADER);
    byte[] notice = body.getBytes(HEADER, body.length());
    if (!BusNoticeMacs.verify(key, domain, channel, at, notice, mac)) {
      return refused(Refusal.BAD_MAC);
    }
    long now = millis.getAsLong();
    if (Math.abs(now - at) > BUS_SEAL_WINDOW_MILLIS) {
      return refused(Refusal.STALE);
    }
    forgetOlderThan(now - 2 * BUS_SEAL_WINDOW_MILLIS);
    if (seen.putIfAbsent(HEX.formatHex(mac), now) != null) {
      return refused(Refusal.REPLAYED);
    }
    if (seen.size() > REMEMBERED) {
      Iterator<?> eldest = seen.keySet().iterator();
      eldest.next();
      eldest.remove();
    }
    return new Opened(notice, null);
  }

  /** How many MACs are remembered against replays (tests). */
  synchronized int remembered() {
    return seen.size();
  }

  private void forgetOlderThan(long millis) {
    for (Iterator<Long> it = seen.values().iterator(); it.hasNext(); ) {
      if (it.next() >= millis) {
        return; // insertion order is arrival order
      }
      it.remove();
    }
  }

  private static Opened refused(Refusal r) {
    return new Opened(null, r);
  }
}
