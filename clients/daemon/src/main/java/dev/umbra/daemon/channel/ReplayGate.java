package dev.umbra.daemon.channel;

import dev.umbra.client.channel.HandshakePayload;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.proto.channel.ChannelReason;
import dev.umbra.proto.channel.ChannelReasons;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link DaemonChannels}' use of its {@link ReplayCache} and of message 1's time ({@link
 * HandshakePayload}): each refusal as the wire reason of the CLOSE that answers the OPEN, counted
 * in {@link ChannelStats} and logged with the channel id only (never a key). One context only.
 */
final class ReplayGate {
  private static final Logger log = LoggerFactory.getLogger(DaemonChannels.class);

  private final ReplayCache memory;
  private final ChannelStats stats;

  ReplayGate(ReplayCache memory, ChannelStats stats) {
    this.memory = memory;
    this.stats = stats;
  }

  /**
   * Right after message 1 {@code m1} verified, before anything else: its {@code payload} unless the
   * daemon accepted {@code m1} within the window ({@code replayed_handshake}) or its time is
   * missing, malformed or outside the skew window ({@link HandshakePayload#read}); each refusal
   * counted and logged.
   */
  HandshakePayload fresh(long channel, byte[] m1, byte[] payload, long nowMillis)
      throws HandshakePayload.RefusedException {
    if (memory.seen(m1, nowMillis)) {
      ReplayCache.Verdict v = ReplayCache.Verdict.REPLAYED;
      throw new HandshakePayload.RefusedException(v.reason(), refused(channel, v));
    }
    try {
      return HandshakePayload.read(payload, nowMillis);
    } catch (HandshakePayload.RefusedException e) {
      (e.reason() == ChannelReason.CHANNEL_REASON_MALFORMED_MESSAGE
              ? stats.failedHandshakes
              : stats.untimelyHandshakes)
          .incrementAndGet();
      log.atWarn()
          .addKeyValue("channel", Long.toHexString(channel))
          .log("handshake refused: {}", ChannelReasons.wire(e.reason()));
      throw e;
    }
  }

  /**
   * Once the client of {@code m1} was admitted: null when the handshake is remembered and may go
   * on, else why not (a replay, {@code replay_memory_full}, {@code too_many_handshakes}).
   */
  String remember(
      long channel,
      byte[] m1,
      Optional<HandshakePayload.DeviceProof> proof,
      X25519PublicKey remoteStatic,
      long nowMillis) {
    byte[] client =
        proof
            .map(ReplayCache::clientOfDevice)
            .orElseGet(() -> ReplayCache.clientOfKey(remoteStatic));
    ReplayCache.Verdict v = memory.remember(m1, client, nowMillis);
    return v == ReplayCache.Verdict.FRESH ? null : refused(channel, v);
  }

  private String refused(long channel, ReplayCache.Verdict verdict) {
    AtomicLong counter =
        switch (verdict) {
          case REPLAYED -> stats.replayedHandshakes;
          case FULL -> stats.replayMemoryFull;
          case CLIENT_LIMIT, FRESH -> stats.tooManyHandshakes;
        };
    counter.incrementAndGet();
    String wire = ChannelReasons.wire(verdict.reason());
    log.atWarn()
        .addKeyValue("channel", Long.toHexString(channel))
        .log("handshake refused: {}", wire);
    return wire;
  }
}
