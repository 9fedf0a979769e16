package dev.umbra.controlplane.workspaces;

import dev.umbra.kit.auth.Role;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/** A member of a workspace with their account's name. */
record Member(UUID id, UUID accountId, String name, Role role, OffsetDateTime createdAt) {
  static Member of(Row r) {
    return new Member(
        r.getUUID("id"),
        r.getUUID("account_id"),
        r.getString("name"),
        Role.parse(r.getString("role")).orElseThrow(),
        r.getOffsetDateTime("created_at"));
  }
}
