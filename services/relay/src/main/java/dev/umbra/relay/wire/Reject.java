package dev.umbra.relay.wire;

/**
 * Why the relay refused a frame or a connection: the {@code reason} tag of the rejection metric and
 * of ERROR frames.
 */
public enum Reject {
  OVERSIZED("oversized"),
  MALFORMED("malformed"),
  UNKNOWN_TYPE("unknown_type"),
  TYPE_NOT_ALLOWED("type_not_allowed"),
  WRONG_WORKSPACE("wrong_workspace"),
  BAD_FIELD("bad_field"),
  NOT_REGISTERED("not_registered"),
  WRONG_TARGET("wrong_target"),
  CHANNEL_IN_USE("channel_in_use"),
  DUPLICATE_OPEN("duplicate_open"),
  UNKNOWN_TARGET("unknown_target"),
  UNKNOWN_CHANNEL("unknown_channel"),
  FORBIDDEN_ROLE("forbidden_role"),
  UNAUTHENTICATED("unauthenticated"),
  REVOKED("revoked"),
  CONNECTION_RATE("connection_rate"),
  MESSAGE_RATE("message_rate"),
  TEXT_FRAME("text_frame");

  private final String tag;

  Reject(String tag) {
    this.tag = tag;
  }

  public String tag() {
    return tag;
  }
}
