package dev.umbra.kit.revocation;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.proto.bus.Revocation;
import dev.umbra.proto.bus.RevokedKind;
import java.time.Instant;
import java.util.UUID;

/**
 * One applied revocation and which session tokens it voids:
 *
 * <ul>
 *   <li>{@code TOKEN}: every session minted with that API token ({@code tid} claim);
 *   <li>{@code MEMBER}: the removed account's member sessions issued at or before the removal (a
 *       member added again later gets sessions that work);
 *   <li>{@code MACHINE}: the machine's sessions;
 *   <li>{@code AGENT}: the agent's sessions (subject kind {@code agent});
 *   <li>{@code DEVICE}: sessions bound to that device ({@code did} claim);
 *   <li>{@code KEYSET_VERSION} (version n): sessions bound to a device whose credential is of a
 *       version before n ({@code ksv} claim), as the rotation voids those credentials; they are
 *       refused for new upgrades and requests, but live connections are not ended by it ({@link
 *       #endsLive}).
 * </ul>
 *
 * @param subject machine, device or API token id, the account for a member, the version for a
 *     keyset
 */
public record Revoked(RevokedKind kind, UUID workspaceId, String subject, Instant time) {

  /** Builds the message the control plane publishes. */
  public static Revocation message(
      RevokedKind kind, UUID workspaceId, String subjectId, String accountId, Instant time) {
    return Revocation.newBuilder()
        .setKind(kind)
        .setWorkspaceId(workspaceId.toString())
        .setSubjectId(subjectId)
        .setAccountId(accountId == null ? "" : accountId)
        .setTimeUnixMs(time.toEpochMilli())
        .build();
  }

  /** A parse result: the revocation, or why it cannot be applied. */
  public record Parsed(Revoked revoked, DropReason drop) {}

  /** Parses and checks a bus message; never throws. */
  public static Parsed parse(byte[] bytes) {
    Revocation r;
    try {
      r = Revocation.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      return new Parsed(null, DropReason.MALFORMED);
    }
    switch (r.getKind()) {
      case REVOKED_KIND_TOKEN,
          REVOKED_KIND_MEMBER,
          REVOKED_KIND_MACHINE,
          REVOKED_KIND_DEVICE,
          REVOKED_KIND_KEYSET_VERSION,
          REVOKED_KIND_AGENT -> {}
      default -> {
        return new Parsed(null, DropReason.UNKNOWN_KIND);
      }
    }
    UUID ws;
    try {
      ws = UUID.fromString(r.getWorkspaceId());
    } catch (IllegalArgumentException e) {
      return new Parsed(
          null, r.getWorkspaceId().isEmpty() ? DropReason.MISSING_WORKSPACE : DropReason.MALFORMED);
    }
    if (r.getTimeUnixMs() <= 0) {
      return new Parsed(null, DropReason.MISSING_TIME);
    }
    String subject =
        r.getKind() == RevokedKind.REVOKED_KIND_MEMBER ? r.getAccountId() : r.getSubjectId();
    if (subject.isEmpty()) {
      return new Parsed(
          null,
          r.getKind() == RevokedKind.REVOKED_KIND_MEMBER
              ? DropReason.MISSING_ACCOUNT
              : DropReason.MISSING_SUBJECT);
    }
    if (subject.length() > 200) {
      return new Parsed(null, DropReason.MALFORMED);
    }
    if (r.getKind() == RevokedKind.REVOKED_KIND_KEYSET_VERSION) {
      try {
        if (Integer.parseInt(subject) < 1) {
          return new Parsed(null, DropReason.MALFORMED);
        }
      } catch (NumberFormatException e) {
        return new Parsed(null, DropReason.MALFORMED);
      }
    }
    return new Parsed(
        new Revoked(r.getKind(), ws, subject, Instant.ofEpochMilli(r.getTimeUnixMs())), null);
  }

  /** The keyset version a {@code KEYSET_VERSION} revocation introduces. */
  public int keysetVersion() {
    return kind == RevokedKind.REVOKED_KIND_KEYSET_VERSION ? Integer.parseInt(subject) : 0;
  }

  /** True when this revocation voids the session token {@code c}. */
  public boolean voids(SessionClaims c) {
    if (!workspaceId.equals(c.workspaceId())) {
      return false;
    }
    return switch (kind) {
      case REVOKED_KIND_TOKEN -> c.apiTokenId().map(subject::equals).orElse(false);
      case REVOKED_KIND_DEVICE -> c.deviceId().map(subject::equals).orElse(false);
      case REVOKED_KIND_KEYSET_VERSION ->
          c.deviceId().isPresent() && c.keysetVersion() < keysetVersion();
      default -> voidsSubject(c.workspaceId(), c.subjectKind(), c.subject(), c.issuedAt());
    };
  }

  /**
   * True when this revocation ends a live connection admitted with the session {@code c}: what it
   * {@link #voids}, except a keyset rotation's. A rotation re-credentials every remaining trusted
   * device in the same transaction (the control plane refuses one that leaves a trusted device
   * out), so the only devices whose credentials it voids without a new one are revoked devices,
   * whose own {@code DEVICE} revocations end their connections. Ending the others' connections too
   * would end every other device's live terminal, channel and tail on each device revocation (the
   * service-side twin of issue 14, finding 3). Their pre-rotation tokens are still refused for
   * anything new ({@link #voids}): a client asks for a session with its new {@code ksv}.
   */
  public boolean endsLive(SessionClaims c) {
    return kind != RevokedKind.REVOKED_KIND_KEYSET_VERSION && voids(c);
  }

  /**
   * True when this revocation voids every session of a subject (member or machine) issued at {@code
   * issuedAt}; for parts of a service that know the subject but not the whole token.
   */
  public boolean voidsSubject(UUID workspace, SubjectKind kind, String who, Instant issuedAt) {
    if (!workspaceId.equals(workspace)) {
      return false;
    }
    return switch (this.kind) {
      // JWT times are whole seconds: a token of the same second as the removal counts as before it
      case REVOKED_KIND_MEMBER ->
          kind == SubjectKind.MEMBER && subject.equals(who) && !issuedAt.isAfter(time);
      case REVOKED_KIND_MACHINE -> kind == SubjectKind.MACHINE && subject.equals(who);
      case REVOKED_KIND_AGENT -> kind == SubjectKind.AGENT && subject.equals(who);
      default -> false;
    };
  }

  /** The key under which the list keeps it (a later one of the same key replaces it). */
  String key() {
    return switch (kind) {
      case REVOKED_KIND_KEYSET_VERSION -> kind.getNumber() + "|" + workspaceId;
      default -> kind.getNumber() + "|" + workspaceId + "|" + subject;
    };
  }
}
