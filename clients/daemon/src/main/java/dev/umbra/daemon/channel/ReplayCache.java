package dev.umbra.daemon.channel;

import dev.umbra.client.channel.HandshakePayload;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.secret.Blake2b256;
import dev.umbra.proto.channel.ChannelReason;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Remembers the initiator ephemeral key of every handshake the daemon accepted in the last {@code
 * windowMillis}, so a replayed first message is refused: Noise IK's first message can be replayed
 * by anyone who saw it, and although the replayer cannot finish the handshake, the daemon must not
 * treat it as a new channel (docs/relay.md, "Replayed handshakes").
 *
 * <p>Only authenticated handshakes are remembered ({@link #remember}, after message 1 verified and
 * the client was admitted): a message that does not verify is refused by the handshake itself and
 * needs no memory, so nobody without a client key can take room. Entries leave by time only: when
 * the memory holds {@code capacity} handshakes still inside the window, or the client already has
 * {@code perClient} of them, a new handshake is refused rather than another one forgotten (fail
 * closed). One context only.
 */
public final class ReplayCache {
  /**
   * How long a handshake is remembered against replays: at least twice {@link
   * HandshakePayload#SKEW}, so that whatever the memory forgot is refused by its time. A message 1
   * of time {@code t} was accepted at {@code a} with {@code |a - t| <= SKEW}; its entry leaves only
   * once {@code now - a > WINDOW}, so a replay it no longer recognises comes at {@code now - t >
   * WINDOW - SKEW >= SKEW}: stale (docs/relay.md, "Replayed handshakes").
   */
  public static final Duration WINDOW = Duration.ofMinutes(15);

  /** How many handshakes the memory holds at most; more inside the window are refused. */
  public static final int CAPACITY = 100_000;

  /**
   * How many of them one client (its device, or its Noise static key without Workspace Protection)
   * may hold: 1/20 of the memory, about 5.5 channels a second sustained over the window.
   */
  public static final int PER_CLIENT = 5_000;

  /** What {@link #remember} decided, and the reason a refusal closes the channel with. */
  public enum Verdict {
    /** Remembered: the handshake may go on. */
    FRESH(null),
    /** Seen within the window. */
    REPLAYED(ChannelReason.CHANNEL_REASON_REPLAYED_HANDSHAKE),
    /** The memory holds {@code capacity} handshakes still inside the window. */
    FULL(ChannelReason.CHANNEL_REASON_REPLAY_MEMORY_FULL),
    /** The client holds {@code perClient} of them. */
    CLIENT_LIMIT(ChannelReason.CHANNEL_REASON_TOO_MANY_HANDSHAKES);

    private final ChannelReason reason;

    Verdict(ChannelReason reason) {
      this.reason = reason;
    }

    /** The channel reason of a refusal (null for {@link #FRESH}). */
    public ChannelReason reason() {
      return reason;
    }
  }

  private record Entry(long atMillis, ByteBuffer client) {}

  private final long windowMillis;
  private final int capacity;
  private final int perClient;

  /** By ephemeral key, oldest first (insertion order). */
  private final LinkedHashMap<ByteBuffer, Entry> seen = new LinkedHashMap<>();

  private final Map<ByteBuffer, Integer> byClient = new HashMap<>();

  public ReplayCache(long windowMillis, int capacity, int perClient) {
    if (windowMillis <= 0 || capacity <= 0 || perClient <= 0 || perClient > capacity) {
      throw new IllegalArgumentException(
          "replay memory: positive window, 0 < perClient <= capacity");
    }
    this.windowMillis = windowMillis;
    this.capacity = capacity;
    this.perClient = perClient;
  }

  /** The daemon's memory: {@link #WINDOW}, {@link #CAPACITY}, {@link #PER_CLIENT}. */
  public static ReplayCache standard() {
    return new ReplayCache(WINDOW.toMillis(), CAPACITY, PER_CLIENT);
  }

  /**
   * Who a client is for its share of the memory under Workspace Protection: its device credential
   * from the {@code proof} its message 1 carried (admitted: verified, and bound to the static key),
   * which a device cannot multiply at will. Hashed, domain-separated from {@link #clientOfKey}.
   */
  public static byte[] clientOfDevice(HandshakePayload.DeviceProof proof) {
    return Blake2b256.hash(
        tagged("device", proof.credential().payload().getBytes(StandardCharsets.UTF_8)));
  }

  /** Who a client is without a device proof: its Noise static key, hashed, domain-separated. */
  public static byte[] clientOfKey(X25519PublicKey remoteStatic) {
    return Blake2b256.hash(tagged("static", remoteStatic.toBytes()));
  }

  private static byte[] tagged(String domain, byte[] value) {
    byte[] tag = (domain + "\0").getBytes(StandardCharsets.US_ASCII);
    byte[] out = Arrays.copyOf(tag, tag.length + value.length);
    System.arraycopy(value, 0, out, tag.length, value.length);
    return out;
  }

  /** True when {@code handshake1}'s ephemeral key was remembered and is still inside the window. */
  public boolean seen(byte[] handshake1, long nowMillis) {
    expire(nowMillis);
    return seen.containsKey(ephemeral(handshake1));
  }

  /**
   * Remembers the authenticated {@code handshake1} of {@code client} (the bytes that name it: its
   * device or its static key) at {@code nowMillis}, unless it is a replay or there is no room.
   */
  public Verdict remember(byte[] handshake1, byte[] client, long nowMillis) {
    expire(nowMillis);
    ByteBuffer key = ephemeral(handshake1);
    if (seen.containsKey(key)) {
      return Verdict.REPLAYED;
    }
    if (seen.size() >= capacity) {
      return Verdict.FULL;
    }
    ByteBuffer who = ByteBuffer.wrap(client.clone());
    if (byClient.getOrDefault(who, 0) >= perClient) {
      return Verdict.CLIENT_LIMIT;
    }
    seen.put(key, new Entry(nowMillis, who));
    byClient.merge(who, 1, Integer::sum);
    return Verdict.FRESH;
  }

  /** Handshakes remembered now (tests, status). */
  public int size() {
    return seen.size();
  }

  private static ByteBuffer ephemeral(byte[] handshake1) {
    return ByteBuffer.wrap(Arrays.copyOf(handshake1, Math.min(32, handshake1.length)));
  }

  /**
   * Forgets the handshakes older than the window, oldest first. A clock that went back leaves some
   * entries longer, never shorter.
   */
  private void expire(long nowMillis) {
    for (Iterator<Entry> it = seen.values().iterator(); it.hasNext(); ) {
      Entry e = it.next();
      if (nowMillis - e.atMillis() <= windowMillis) {
        return;
      }
      it.remove();
      byClient.computeIfPresent(e.client(), (k, n) -> n == 1 ? null : n - 1);
    }
  }
}
