package dev.umbra.kit.revocation;

/** Why a revocation message was not applied (logged and counted, never silently lost). */
public enum DropReason {
  MALFORMED("malformed"),
  UNKNOWN_KIND("unknown_kind"),
  MISSING_WORKSPACE("missing_workspace"),
  MISSING_SUBJECT("missing_subject"),
  MISSING_ACCOUNT("missing_account"),
  MISSING_TIME("missing_time");

  private final String wire;

  DropReason(String wire) {
    this.wire = wire;
  }

  /** The metric tag and log value. */
  public String wire() {
    return wire;
  }
}
