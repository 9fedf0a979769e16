package dev.umbra.kit.audit;

import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.AuditEvent;
import dev.umbra.proto.audit.Outcome;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * What a well-formed audit event is. The emitter checks before appending (a bug shows at once in
 * the emitting service's tests); the audit service checks again at ingest because stream entries
 * are outside bytes, and sends what fails to its dead-letter table with the returned reason.
 */
public final class AuditEventRules {
  /** A larger serialized event is refused before it is parsed. */
  public static final int MAX_EVENT_BYTES = 8 * 1024;

  public static final int MAX_METADATA_ENTRIES = 16;
  public static final int MAX_METADATA_VALUE_CHARS = 256;
  public static final int MAX_ID_CHARS = 128;
  public static final int MAX_TARGET_CHARS = 256;
  public static final int MAX_SOURCE_IP_CHARS = 64;

  /** Events with an empty workspace id are stored in this reserved chain (RFC 9562 Max UUID). */
  public static final UUID DEPLOYMENT_WORKSPACE = new UUID(-1L, -1L);

  private static final Pattern ULID = Pattern.compile("[0-7][0-9A-HJKMNP-TV-Z]{25}");
  private static final Pattern METADATA_KEY = Pattern.compile("[a-z][a-z0-9_.-]{0,63}");
  private static final Pattern SERVICE = Pattern.compile("[a-z][a-z0-9-]{0,63}");

  /** Metadata keys that suggest a secret or a payload are refused outright (DESIGN.md §2). */
  private static final List<String> FORBIDDEN_KEY_PARTS =
      List.of(
          "password",
          "passwd",
          "secret",
          "token",
          "payload",
          "private",
          "psk",
          "plaintext",
          "ciphertext",
          "cookie",
          "credential",
          "authorization");

  private static final long MAX_TIME_MS = 253_402_300_799_999L; // 9999-12-31T23:59:59.999Z

  private AuditEventRules() {}

  /**
   * True for an event that records a refused operation (outcome denied, or an action such as {@code
   * relay.channel_refused} or {@code access.denied}); the emitter aggregates these per window
   * instead of writing one per attempt. Not {@code workflow.refused}: a machine's refusal of a
   * definition the control plane served is evidence of tampering, already reported once per
   * workflow, version and reason under an event id the daemon chose — each is written, with the
   * workflow it names.
   */
  public static boolean isRefusal(AuditEvent e) {
    String a = e.getAction();
    if (a.equals(AuditAction.WORKFLOW_REFUSED.wire())) {
      return false;
    }
    return e.getOutcome() == Outcome.OUTCOME_DENIED
        || a.endsWith("refused")
        || a.endsWith(".denied");
  }

  /** Why {@code e} is not acceptable, as a short reason code; empty when it is fine. */
  public static Optional<String> problem(AuditEvent e) {
    if (!ULID.matcher(e.getId()).matches()) {
      return Optional.of("bad_id");
    }
    if (!e.getWorkspaceId().isEmpty() && !isCanonicalUuid(e.getWorkspaceId())) {
      return Optional.of("bad_workspace");
    }
    if (e.getWorkspaceId().equals(DEPLOYMENT_WORKSPACE.toString())) {
      return Optional.of("bad_workspace");
    }
    ActorKind kind = e.getActor().getKind();
    if (actorKindWire(kind).isEmpty()) {
      return Optional.of("bad_actor");
    }
    String actorId = e.getActor().getId();
    if (actorId.length() > MAX_ID_CHARS
        || hasControl(actorId)
        || (actorId.isEmpty() && kind != ActorKind.ACTOR_KIND_ANONYMOUS)) {
      return Optional.of("bad_actor");
    }
    if (AuditAction.fromWire(e.getAction()).isEmpty()) {
      return Optional.of("unknown_action");
    }
    if (outcomeWire(e.getOutcome()).isEmpty()) {
      return Optional.of("bad_outcome");
    }
    if (e.getTimeUnixMs() <= 0 || e.getTimeUnixMs() > MAX_TIME_MS) {
      return Optional.of("bad_time");
    }
    if (tooLong(e.getTarget(), MAX_TARGET_CHARS)
        || tooLong(e.getSourceIp(), MAX_SOURCE_IP_CHARS)
        || tooLong(e.getRequestId(), MAX_ID_CHARS)) {
      return Optional.of("bad_field");
    }
    if (!SERVICE.matcher(e.getService()).matches()) {
      return Optional.of("bad_service");
    }
    if (e.getMetadataCount() > MAX_METADATA_ENTRIES) {
      return Optional.of("too_much_metadata");
    }
    for (Map.Entry<String, String> m : e.getMetadataMap().entrySet()) {
      if (!METADATA_KEY.matcher(m.getKey()).matches()
          || tooLong(m.getValue(), MAX_METADATA_VALUE_CHARS)) {
        return Optional.of("bad_metadata");
      }
      if (forbiddenKey(m.getKey())) {
        return Optional.of("forbidden_metadata_key");
      }
    }
    return Optional.empty();
  }

  /** True for a metadata key that names a secret or payload (it must not be sent at all). */
  public static boolean forbiddenKey(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    for (String part : FORBIDDEN_KEY_PARTS) {
      if (k.contains(part)) {
        return true;
      }
    }
    return false;
  }

  /** The workspace whose chain holds {@code e}: its own, or the deployment chain when empty. */
  public static UUID chainOf(AuditEvent e) {
    return e.getWorkspaceId().isEmpty()
        ? DEPLOYMENT_WORKSPACE
        : UUID.fromString(e.getWorkspaceId());
  }

  /** The stored and hashed name of an actor kind: member, machine, device, service, anonymous. */
  public static Optional<String> actorKindWire(ActorKind kind) {
    return switch (kind) {
      case ACTOR_KIND_MEMBER -> Optional.of("member");
      case ACTOR_KIND_MACHINE -> Optional.of("machine");
      case ACTOR_KIND_DEVICE -> Optional.of("device");
      case ACTOR_KIND_SERVICE -> Optional.of("service");
      case ACTOR_KIND_ANONYMOUS -> Optional.of("anonymous");
      default -> Optional.empty();
    };
  }

  public static Optional<ActorKind> actorKindFromWire(String wire) {
    for (ActorKind k : ActorKind.values()) {
      if (k != ActorKind.UNRECOGNIZED && actorKindWire(k).filter(wire::equals).isPresent()) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }

  /** The stored and hashed name of an outcome: success, failure, denied. */
  public static Optional<String> outcomeWire(Outcome outcome) {
    return switch (outcome) {
      case OUTCOME_SUCCESS -> Optional.of("success");
      case OUTCOME_FAILURE -> Optional.of("failure");
      case OUTCOME_DENIED -> Optional.of("denied");
      default -> Optional.empty();
    };
  }

  public static Optional<Outcome> outcomeFromWire(String wire) {
    for (Outcome o : Outcome.values()) {
      if (o != Outcome.UNRECOGNIZED && outcomeWire(o).filter(wire::equals).isPresent()) {
        return Optional.of(o);
      }
    }
    return Optional.empty();
  }

  private static boolean isCanonicalUuid(String s) {
    if (s.length() != 36) {
      return false;
    }
    try {
      return UUID.fromString(s).toString().equals(s);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static boolean tooLong(String s, int max) {
    return s.length() > max || hasControl(s);
  }

  /** Control characters (and NUL, which PostgreSQL text cannot hold) are never stored. */
  static boolean hasControl(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        return true;
      }
    }
    return false;
  }
}
