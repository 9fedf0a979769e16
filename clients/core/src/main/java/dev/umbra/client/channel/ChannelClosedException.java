package dev.umbra.client.channel;

import dev.umbra.proto.channel.ChannelReason;
import dev.umbra.proto.channel.ChannelReasons;

/**
 * A channel ended abnormally; {@link #code()} is the machine-readable reason: a {@link
 * ChannelReason}'s wire string (e.g. {@code decrypt_failed}), or what the relay or peer wrote.
 */
public final class ChannelClosedException extends RuntimeException {
  private final String code;

  /** Ended for a reason read from the wire (a peer's or the relay's, possibly unknown here). */
  public ChannelClosedException(String code, String message) {
    super(message);
    this.code = code;
  }

  /** Ended for one of the channel layer's own reasons. */
  public ChannelClosedException(ChannelReason reason, String message) {
    this(ChannelReasons.wire(reason), message);
  }

  public String code() {
    return code;
  }
}
