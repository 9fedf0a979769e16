package dev.umbra.proto.relay;

import dev.umbra.proto.ReasonNames;
import java.util.Map;
import java.util.Optional;

/**
 * The wire strings of {@link RelayReason} (relay.proto, docs/relay.md "Reasons"): the value's name
 * without {@code RELAY_REASON_}, in lower case. The relay sets a frame's or a close frame's reason
 * only through {@link #wire}, and clients read one through {@link #parse}, so what the relay says
 * is a typed value at both ends while the wire stays the compatible string.
 */
public final class RelayReasons {
  private static final ReasonNames<RelayReason> NAMES =
      ReasonNames.of(RelayReason.class, "RELAY_REASON_");

  private RelayReasons() {}

  /** The wire string of {@code reason}. */
  public static String wire(RelayReason reason) {
    return NAMES.wire(reason);
  }

  /**
   * The relay reason a wire string names; empty for any other string (a peer's channel-layer code,
   * or a reason newer than this build).
   */
  public static Optional<RelayReason> parse(String wire) {
    return NAMES.parse(wire);
  }

  /** Every wire string, in the enum's order. */
  public static Map<String, RelayReason> all() {
    return NAMES.all();
  }
}
