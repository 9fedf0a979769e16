package dev.umbra.controlplane.workspaces;

import dev.umbra.controlplane.tokens.IssuedToken;
import dev.umbra.kit.auth.Role;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/** An invitation as stored (its token only as a hash). */
record Invitation(
    UUID id,
    String role,
    String note,
    OffsetDateTime createdAt,
    OffsetDateTime expiresAt,
    OffsetDateTime acceptedAt,
    OffsetDateTime cancelledAt) {
  static Invitation of(Row r) {
    return new Invitation(
        r.getUUID("id"),
        r.getString("role"),
        r.getString("note"),
        r.getOffsetDateTime("created_at"),
        r.getOffsetDateTime("expires_at"),
        r.getOffsetDateTime("accepted_at"),
        r.getOffsetDateTime("cancelled_at"));
  }

  /**
   * pending, accepted or cancelled (an expired pending one stays pending: it is refused when
   * redeemed).
   */
  String status() {
    return acceptedAt != null ? "accepted" : cancelledAt != null ? "cancelled" : "pending";
  }

  /** A new invitation with its {@code umi_} token, shown once. */
  record Created(Invitation invitation, String token) {
    @Override
    public String toString() {
      return "Created[" + invitation.id() + ", redacted]";
    }
  }

  /** A usable invitation found by its token's hash, locked for its redemption. */
  record Usable(UUID workspaceId, UUID id, Role role) {}

  /**
   * A redeemed invitation: the member it made and, for a new account, that account's first API
   * token.
   */
  record Accepted(
      UUID accountId,
      UUID memberId,
      Role role,
      UUID workspaceId,
      String workspaceName,
      IssuedToken apiToken) {}
}
