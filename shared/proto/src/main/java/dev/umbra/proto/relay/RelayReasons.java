package dev.umbra.proto.relay;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The wire strings of {@link RelayReason} (relay.proto, docs/relay.md "Reasons"): the value's name
 * without {@code RELAY_REASON_}, in lower case. The relay sets a frame's or a close frame's reason
 * only through {@link #wire}, and clients read one through {@link #parse}, so what the relay says
 * is a typed value at both ends while the wire stays the compatible string.
 */
public final class RelayReasons {
  private static final String PREFIX = "RELAY_REASON_";
  private static final Map<String, RelayReason> BY_WIRE;

  static {
    Map<String, RelayReason> m = new LinkedHashMap<>();
    for (RelayReason r : RelayReason.values()) {
      if (r != RelayReason.UNRECOGNIZED && r != RelayReason.RELAY_REASON_UNSPECIFIED) {
        m.put(r.name().substring(PREFIX.length()).toLowerCase(Locale.ROOT), r);
      }
    }
    BY_WIRE = Collections.unmodifiableMap(m);
  }

  private RelayReasons() {}

  /** The wire string of {@code reason}. */
  public static String wire(RelayReason reason) {
    if (reason == RelayReason.UNRECOGNIZED || reason == RelayReason.RELAY_REASON_UNSPECIFIED) {
      throw new IllegalArgumentException("not a reason: " + reason);
    }
    return reason.name().substring(PREFIX.length()).toLowerCase(Locale.ROOT);
  }

  /**
   * The relay reason a wire string names; empty for any other string (a peer's channel-layer code,
   * or a reason newer than this build).
   */
  public static Optional<RelayReason> parse(String wire) {
    return Optional.ofNullable(BY_WIRE.get(wire));
  }

  /** Every wire string, in the enum's order. */
  public static Map<String, RelayReason> all() {
    return BY_WIRE;
  }
}
