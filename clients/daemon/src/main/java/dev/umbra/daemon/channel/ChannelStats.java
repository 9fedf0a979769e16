package dev.umbra.daemon.channel;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of the daemon's channel service (shown by status output and checked by tests). */
public final class ChannelStats {
  public final AtomicLong opened = new AtomicLong();
  public final AtomicLong replayedHandshakes = new AtomicLong();
  public final AtomicLong failedHandshakes = new AtomicLong();

  /** Authenticated handshakes refused because the replay memory was full inside its window. */
  public final AtomicLong replayMemoryFull = new AtomicLong();

  /** Authenticated handshakes refused because their client held its share of the replay memory. */
  public final AtomicLong tooManyHandshakes = new AtomicLong();

  /** Handshakes refused for message 1's time: stale, from the future, or missing (old clients). */
  public final AtomicLong untimelyHandshakes = new AtomicLong();

  public final AtomicLong decryptFailures = new AtomicLong();
  public final AtomicLong resumed = new AtomicLong();
  public final AtomicLong unknownChannel = new AtomicLong();

  /** Open channels closed because their client's device (or credential) stopped being admitted. */
  public final AtomicLong revokedChannels = new AtomicLong();

  /** Re-checks of the open channels after a trust refresh. */
  public final AtomicLong rechecks = new AtomicLong();

  /** The pinned keyset version the last re-check used (0: nothing pinned; observable by tests). */
  public final AtomicLong recheckedKeysetVersion = new AtomicLong();
}
