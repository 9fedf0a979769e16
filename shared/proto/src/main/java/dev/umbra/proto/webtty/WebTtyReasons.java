package dev.umbra.proto.webtty;

import dev.umbra.proto.ReasonNames;
import java.util.Map;
import java.util.Optional;

/**
 * The wire strings of {@link WebTtyReason} (webtty.proto, docs/webtty.md "Reasons"): the value's
 * name without {@code WEBTTY_REASON_}, in lower case. Every WebTTY party sets a frame's {@code
 * reason} only through {@link #wire}, so no free-form reason reaches the wire.
 */
public final class WebTtyReasons {
  private static final ReasonNames<WebTtyReason> NAMES =
      ReasonNames.of(WebTtyReason.class, "WEBTTY_REASON_");

  private WebTtyReasons() {}

  /** The wire string of {@code reason}. */
  public static String wire(WebTtyReason reason) {
    return NAMES.wire(reason);
  }

  /** The reason a wire string names; empty for a string not in the table. */
  public static Optional<WebTtyReason> parse(String wire) {
    return NAMES.parse(wire);
  }

  /** Every wire string, in the enum's order. */
  public static Map<String, WebTtyReason> all() {
    return NAMES.all();
  }

  /**
   * {@code proof_refused_<why>} for a refusal code of the daemon's checks (e.g. {@code no_grant},
   * {@code device_revoked}); {@code proof_refused} for a code the table does not have, so an
   * unforeseen code still refuses, under the generic reason.
   */
  public static WebTtyReason proofRefused(String why) {
    return parse("proof_refused_" + why).orElse(WebTtyReason.WEBTTY_REASON_PROOF_REFUSED);
  }

  /**
   * {@code client_refused_<why>} for the re-check's refusal code; a code the table does not have
   * still ends the session, as {@code client_refused_device_not_trusted} (the re-check's meaning is
   * "no longer admitted").
   */
  public static WebTtyReason clientRefused(String why) {
    return parse("client_refused_" + why)
        .orElse(WebTtyReason.WEBTTY_REASON_CLIENT_REFUSED_DEVICE_NOT_TRUSTED);
  }
}
