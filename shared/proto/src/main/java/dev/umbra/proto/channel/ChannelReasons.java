package dev.umbra.proto.channel;

import dev.umbra.proto.ReasonNames;
import java.util.Map;
import java.util.Optional;

/**
 * The wire strings of {@link ChannelReason} (channel.proto, docs/relay.md "Channel reasons"): the
 * value's name without {@code CHANNEL_REASON_}, in lower case. Clients and daemons write a CLOSE
 * frame's reason and a ChannelError's code only through {@link #wire}, and read one through {@link
 * #parse}, so the channel layer's reasons are typed at both ends while the wire stays the
 * compatible string.
 */
public final class ChannelReasons {
  private static final ReasonNames<ChannelReason> NAMES =
      ReasonNames.of(ChannelReason.class, "CHANNEL_REASON_");

  private ChannelReasons() {}

  /** The wire string of {@code reason}. */
  public static String wire(ChannelReason reason) {
    return NAMES.wire(reason);
  }

  /**
   * The channel reason a wire string names; empty for any other string (a relay's reason, or a
   * reason newer than this build).
   */
  public static Optional<ChannelReason> parse(String wire) {
    return NAMES.parse(wire);
  }

  /** Every wire string, in the enum's order. */
  public static Map<String, ChannelReason> all() {
    return NAMES.all();
  }
}
