package dev.umbra.daemon.channel;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Remembers the initiator ephemeral key of every handshake accepted in the last {@code
 * windowMillis} (at most {@code capacity}), so a replayed first message is refused: Noise IK's
 * first message can be replayed by anyone who saw it, and although the replayer cannot finish the
 * handshake, the daemon must not treat it as a new channel. One context only.
 */
public final class ReplayCache {
  private final long windowMillis;
  private final int capacity;
  private final LinkedHashMap<ByteBuffer, Long> seen = new LinkedHashMap<>();

  public ReplayCache(long windowMillis, int capacity) {
    this.windowMillis = windowMillis;
    this.capacity = capacity;
  }

  /**
   * True when {@code handshake1} was not seen in the window (and remembers it); false for a replay.
   */
  public boolean firstTime(byte[] handshake1, long nowMillis) {
    for (Iterator<Map.Entry<ByteBuffer, Long>> it = seen.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<ByteBuffer, Long> e = it.next();
      if (e.getValue() + windowMillis < nowMillis || seen.size() > capacity) {
        it.remove();
      } else {
        break;
      }
    }
    ByteBuffer key = ByteBuffer.wrap(Arrays.copyOf(handshake1, Math.min(32, handshake1.length)));
    return seen.putIfAbsent(key, nowMillis) == null;
  }
}
