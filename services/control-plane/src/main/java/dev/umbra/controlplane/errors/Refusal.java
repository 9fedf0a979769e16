package dev.umbra.controlplane.errors;

/**
 * A rule of the control plane said no. Services and stores fail with one of these, never with an
 * HTTP status; {@code http.RefusalMapper} turns each kind into the API's error answer at the edge
 * (as Signal-Server's exception mappers do). Sealed: the mapper's switch names every kind.
 */
public abstract sealed class Refusal extends RuntimeException {
  private final String field;

  private Refusal(String message, String field) {
    super(message, null, false, false);
    this.field = field;
  }

  /** The request member or parameter at fault; null when none. */
  public String field() {
    return field;
  }

  /** The thing does not exist (or is in a workspace the caller is not a member of). */
  public static NotFound notFound(String what) {
    return new NotFound(NotFound.Reason.NOT_FOUND, what, what + " not found");
  }

  /**
   * Nothing usable answers to what the caller presented, for a reason it may not learn (e.g. an
   * invitation).
   */
  public static NotFound notFound(NotFound.Reason reason, String what, String message) {
    return new NotFound(reason, what, message);
  }

  /** An input breaks a rule only the service can check (against stored state or keys). */
  public static Invalid invalid(String field, String message) {
    return new Invalid(field, message);
  }

  public static Conflict conflict(Conflict.Reason reason, String message) {
    return new Conflict(reason, message, null);
  }

  public static Conflict conflict(Conflict.Reason reason, String message, String field) {
    return new Conflict(reason, message, field);
  }

  /** The caller's credential (e.g. a machine's signature) did not prove who it is. */
  public static Unauthenticated unauthenticated(String message) {
    return new Unauthenticated(Unauthenticated.Reason.UNAUTHORIZED, message);
  }

  public static Unauthenticated unauthenticated(Unauthenticated.Reason reason, String message) {
    return new Unauthenticated(reason, message);
  }

  public static NotAllowed notAllowed(NotAllowed.Reason reason, String message, String field) {
    return new NotAllowed(reason, message, field);
  }

  /**
   * A bound on what the caller may keep stored is reached; it frees as others act or time passes.
   */
  public static Full full(Full.Reason reason, String message) {
    return new Full(reason, message);
  }

  public static final class NotFound extends Refusal {
    /** Why; {@link #wire()} is the error code clients read. */
    public enum Reason {
      NOT_FOUND("not_found"),
      /** The invitation token is unknown, used, cancelled or expired (one answer for all four). */
      INVALID_INVITATION("invalid_invitation");

      private final String wire;

      Reason(String wire) {
        this.wire = wire;
      }

      public String wire() {
        return wire;
      }
    }

    private final Reason reason;
    private final String what;

    private NotFound(Reason reason, String what, String message) {
      super(message, null);
      this.reason = reason;
      this.what = what;
    }

    public Reason reason() {
      return reason;
    }

    public String what() {
      return what;
    }
  }

  public static final class Invalid extends Refusal {
    private Invalid(String field, String message) {
      super(message, field);
    }
  }

  public static final class Unauthenticated extends Refusal {
    /** Why; {@link #wire()} is the error code clients read. */
    public enum Reason {
      UNAUTHORIZED("unauthorized"),
      /** The bootstrap token is not the deployment's (or there is none). */
      INVALID_BOOTSTRAP_TOKEN("invalid_bootstrap_token");

      private final String wire;

      Reason(String wire) {
        this.wire = wire;
      }

      public String wire() {
        return wire;
      }
    }

    private final Reason reason;

    private Unauthenticated(Reason reason, String message) {
      super(message, null);
      this.reason = reason;
    }

    public Reason reason() {
      return reason;
    }
  }

  /** The state of the workspace does not allow it now. */
  public static final class Conflict extends Refusal {
    /** Why; {@link #wire()} is the error code clients read. */
    public enum Reason {
      NO_KEYSET("no_keyset"),
      KEYSET_EXISTS("keyset_exists"),
      DEVICE_EXISTS("device_exists"),
      NOT_PENDING("not_pending"),
      STALE_KEYSET("stale_keyset"),
      ALREADY_REVOKED("already_revoked"),
      KIT_EXISTS("kit_exists"),
      /**
       * This install is already bound to the workspace (the API's generic code, kept as it was).
       */
      ALREADY_BOUND("conflict"),
      /** A team of this name exists (the API's generic code, kept as it was). */
      TEAM_NAME_TAKEN("conflict"),
      /** The last owner cannot be demoted or removed (the API's generic code, kept as it was). */
      LAST_OWNER("conflict"),
      /**
       * The invitee is already a member of the workspace (the API's generic code, kept as it was).
       */
      ALREADY_MEMBER("conflict"),
      /** A document's version is not above the stored one. */
      STALE_VERSION("stale_version"),
      /** An agent with this Ed25519 key is enrolled in the workspace. */
      AGENT_EXISTS("agent_exists"),
      /** A message id was already used by another sender. */
      MESSAGE_ID_TAKEN("message_id_taken"),
      /** The bundle has this many one-time prekeys already (docs/messaging.md, limits). */
      TOO_MANY_PREKEYS("too_many_prekeys"),
      /** The inbox item was already decided, or passed its deadline and took its default. */
      ALREADY_DECIDED("already_decided"),
      /** The bootstrap token was used: the deployment has its first owner. */
      ALREADY_BOOTSTRAPPED("already_bootstrapped"),
      /** A machine reported a workflow step that names another machine (or no such step). */
      WRONG_MACHINE("wrong_machine"),
      /** A workflow run's step was already reported. */
      DUPLICATE_STEP("duplicate_step"),
      /** A report of a workflow run names another version than the run's earlier reports. */
      VERSION_MISMATCH("version_mismatch"),
      /** A workflow run has as many reports as it may have (50). */
      TOO_MANY_REPORTS("too_many_reports");

      private final String wire;

      Reason(String wire) {
        this.wire = wire;
      }

      public String wire() {
        return wire;
      }
    }

    private final Reason reason;

    private Conflict(Reason reason, String message, String field) {
      super(message, field);
      this.reason = reason;
    }

    public Reason reason() {
      return reason;
    }
  }

  /** The caller may not do this (beyond the role checks of {@code Tenancy}). */
  public static final class NotAllowed extends Refusal {
    /** Why; {@link #wire()} is the error code clients read. */
    public enum Reason {
      NOT_YOUR_DEVICE("not_your_device"),
      /**
       * Only an owner makes, changes or removes an owner (the API's generic code, kept as it was).
       */
      OWNER_ONLY("forbidden"),
      /**
       * A session token names only a trusted device of the caller (the API's generic code, kept as
       * it was).
       */
      NOT_A_TRUSTED_DEVICE_OF_YOURS("forbidden"),
      /**
       * The caller's role in the workspace is below the one needed (the API's generic code, kept as
       * it was).
       */
      ROLE_TOO_LOW("forbidden"),
      /** A policy's signer is not a trusted device of the caller under the current keyset. */
      SIGNER_NOT_TRUSTED("signer_not_trusted"),
      /** A messaging session token is for another workspace than the route's. */
      OTHER_WORKSPACE("forbidden"),
      /** The caller (device or agent) is not trusted/approved now, or its machine is revoked. */
      PRINCIPAL_NOT_ACTIVE("principal_not_active"),
      /** The caller is not a party of the conversation, or the recipient is not its peer. */
      NOT_A_PARTY("not_a_party");

      private final String wire;

      Reason(String wire) {
        this.wire = wire;
      }

      public String wire() {
        return wire;
      }
    }

    private final Reason reason;

    private NotAllowed(Reason reason, String message, String field) {
      super(message, field);
      this.reason = reason;
    }

    public Reason reason() {
      return reason;
    }
  }

  /** A quota is reached: nothing was stored; retry once it frees (HTTP 429). */
  public static final class Full extends Refusal {
    /** Why; {@link #wire()} is the error code clients read. */
    public enum Reason {
      /** A recipient has as many unacknowledged copies waiting as it may (docs/messaging.md). */
      RECIPIENT_PENDING_FULL("recipient_pending_full"),
      /** The sender has as many copies waiting for their recipients as it may. */
      SENDER_PENDING_FULL("sender_pending_full");

      private final String wire;

      Reason(String wire) {
        this.wire = wire;
      }

      public String wire() {
        return wire;
      }
    }

    private final Reason reason;

    private Full(Reason reason, String message) {
      super(message, null);
      this.reason = reason;
    }

    public Reason reason() {
      return reason;
    }
  }
}
