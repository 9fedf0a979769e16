package dev.umbra.relay.wire;

import dev.umbra.proto.relay.RelayReason;
import dev.umbra.proto.relay.RelayReasons;

/**
 * Why the relay refused a frame or a connection: the {@code reason} tag of the rejection metric and
 * of ERROR frames, each a {@link RelayReason} of the wire table (relay.proto, docs/relay.md
 * "Reasons").
 */
public enum Reject {
  OVERSIZED(RelayReason.RELAY_REASON_OVERSIZED),
  MALFORMED(RelayReason.RELAY_REASON_MALFORMED),
  UNKNOWN_TYPE(RelayReason.RELAY_REASON_UNKNOWN_TYPE),
  TYPE_NOT_ALLOWED(RelayReason.RELAY_REASON_TYPE_NOT_ALLOWED),
  WRONG_WORKSPACE(RelayReason.RELAY_REASON_WRONG_WORKSPACE),
  BAD_FIELD(RelayReason.RELAY_REASON_BAD_FIELD),
  NOT_REGISTERED(RelayReason.RELAY_REASON_NOT_REGISTERED),
  WRONG_TARGET(RelayReason.RELAY_REASON_WRONG_TARGET),
  CHANNEL_IN_USE(RelayReason.RELAY_REASON_CHANNEL_IN_USE),
  DUPLICATE_OPEN(RelayReason.RELAY_REASON_DUPLICATE_OPEN),
  UNKNOWN_TARGET(RelayReason.RELAY_REASON_UNKNOWN_TARGET),
  UNKNOWN_CHANNEL(RelayReason.RELAY_REASON_UNKNOWN_CHANNEL),
  FORBIDDEN_ROLE(RelayReason.RELAY_REASON_FORBIDDEN_ROLE),
  UNAUTHENTICATED(RelayReason.RELAY_REASON_UNAUTHENTICATED),
  REVOKED(RelayReason.RELAY_REASON_REVOKED),
  CONNECTION_RATE(RelayReason.RELAY_REASON_CONNECTION_RATE),
  MESSAGE_RATE(RelayReason.RELAY_REASON_MESSAGE_RATE),
  TEXT_FRAME(RelayReason.RELAY_REASON_TEXT_FRAME),
  UNKNOWN_INSTANCE(RelayReason.RELAY_REASON_UNKNOWN_INSTANCE),
  REVOCATIONS_STALE(RelayReason.RELAY_REASON_REVOCATIONS_STALE);

  private final RelayReason reason;

  Reject(RelayReason reason) {
    this.reason = reason;
  }

  /** The reason on the wire. */
  public RelayReason reason() {
    return reason;
  }

  /** Its wire string, also the metric's tag. */
  public String tag() {
    return RelayReasons.wire(reason);
  }
}
