package dev.umbra.kit.bus;

import static dev.umbra.crypto.CryptoConstants.BUS_SEAL_MAC_LENGTH;
import static dev.umbra.crypto.CryptoConstants.BUS_SEAL_VERSION;
import static dev.umbra.crypto.CryptoConstants.BUS_SEAL_WINDOW_MILLIS;

import dev.umbra.crypto.secret.BusNoticeMacs;
import io.vertx.core.buffer.Buffer;
import java.util.function.LongSupplier;

/**
 * Notices of one type on the bus under a MAC (docs/webtty.md, "Takeover notices on the bus"): the
 * body is {@code 0x01 || u64be(unix_millis) || mac || notice}, {@code mac} {@link BusNoticeMacs}'
 * under the key of this type's domain, bound to the channel and the time. A receiver checks size,
 * version, MAC (constant time), time window and replay <b>before</b> it parses the notice; what it
 * refuses it drops and counts by {@link Refusal}. Whoever can publish on Redis without the internal
 * credential cannot forge one; a notice captured off the bus is refused on another channel, after
 * {@link dev.umbra.crypto.CryptoConstants#BUS_SEAL_WINDOW_MILLIS}, and a second time within it.
 *
 * <p>Replays, whatever the rate: a notice opens at most once per instance of this class. Each one
 * accepted is remembered (its MAC's first 128 bits and its time, {@link ReplayMemory}) until its
 * time leaves the window; the window's lower edge never moves back, even when the clock does. At
 * most {@code remembered} are kept (the caller sizes it for its rate: a notice stays up to twice
 * the window when its sender's clock is ahead). When they would be more, the oldest by time is
 * forgotten and raises a floor: from then on a notice not remembered whose time is at or below the
 * floor may be one forgotten, so it is refused ({@link Refusal#REPLAY_MEMORY_FULL}) rather than
 * accepted a second time; newer ones open as before.
 */
public final class SealedNotices {
  /** Version, time and MAC. */
  public static final int HEADER = 1 + Long.BYTES + BUS_SEAL_MAC_LENGTH;

  /**
   * Notices remembered against replays unless the caller says otherwise: 65 536, 2.25 MiB when full
   * ({@link ReplayMemory#BYTES_PER_ENTRY} bytes each), enough for ~1 000 notices a second however
   * far ahead their senders' clocks are (each is kept until its time is a window old: up to twice
   * the window). A caller at a higher rate passes its own bound.
   */
  public static final int REMEMBERED = 1 << 16;

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
    /**
     * MAC'd, but its time is further than the window from this instance's clock (or below the
     * highest reading of it less the window: the window's lower edge never moves back).
     */
    STALE("stale"),
    /** MAC'd and in time, but seen already. */
    REPLAYED("replayed"),
    /**
     * MAC'd and in time, not remembered, but no newer than a notice the full replay memory forgot:
     * it may be that one again, so it is refused (the memory is too small for the rate).
     */
    REPLAY_MEMORY_FULL("replay_memory_full"),
    /** Authentic, yet not a notice of this type as the sender writes it (the caller's check). */
    MALFORMED("malformed");

    public final String tag;

    Refusal(String tag) {
      this.tag = tag;
    }
  }

  /** A verified notice's bytes, or why the body was refused. */
  public record Opened(byte[] notice, Refusal refusal) {}

  private final byte[] key;
  private final String domain;
  private final int maxNotice;
  private final LongSupplier millis;
  private final ReplayMemory memory;

  /** The window's lower edge: the highest clock reading less the window (never moves back). */
  private long lowest = Long.MIN_VALUE;

  /** The newest time the full memory forgot; a notice not remembered at or below it is refused. */
  private long floor = Long.MIN_VALUE;

  /**
   * Notices of type {@code domain} (a {@code CryptoConstants} domain) of at most {@code maxNotice}
   * bytes, under the key derived from {@code credential}, {@link #REMEMBERED} remembered against
   * replays; {@code millis} is the wall clock (Unix milliseconds, e.g. {@code clock::millis}).
   */
  public SealedNotices(String credential, String domain, int maxNotice, LongSupplier millis) {
    this(credential, domain, maxNotice, REMEMBERED, millis);
  }

  /** As above, with at most {@code remembered} notices remembered against replays. */
  public SealedNotices(
      String credential, String domain, int maxNotice, int remembered, LongSupplier millis) {
    this.key = BusNoticeMacs.key(credential, domain);
    this.domain = domain;
    this.maxNotice = maxNotice;
    this.millis = millis;
    this.memory = new ReplayMemory(remembered);
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
    lowest = Math.max(lowest, now - BUS_SEAL_WINDOW_MILLIS);
    while (memory.size() > 0 && memory.oldest() < lowest) {
      memory.removeOldest(); // refused as stale from now on
    }
    if (at < lowest || at > now + BUS_SEAL_WINDOW_MILLIS) {
      return refused(Refusal.STALE);
    }
    long hi = body.getLong(1 + Long.BYTES);
    long lo = body.getLong(1 + 2 * Long.BYTES);
    if (memory.contains(hi, lo)) {
      return refused(Refusal.REPLAYED);
    }
    if (at <= floor) {
      return refused(Refusal.REPLAY_MEMORY_FULL);
    }
    if (memory.size() < memory.capacity()) {
      memory.add(at, hi, lo);
    } else if (at <= memory.oldest()) {
      floor = Math.max(floor, at); // the oldest itself: forgotten at once
    } else {
      floor = Math.max(floor, memory.removeOldest());
      memory.add(at, hi, lo);
    }
    return new Opened(notice, null);
  }

  /** How many notices are remembered against replays (tests). */
  synchronized int remembered() {
    return memory.size();
  }

  /** The bytes of the replay memory's arrays (tests). */
  synchronized long rememberedBytes() {
    return memory.bytes();
  }

  private static Opened refused(Refusal r) {
    return new Opened(null, r);
  }
}
