package dev.umbra.controlplane.workspaces;

import dev.umbra.kit.auth.Role;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/** A workspace as stored. */
public record Workspace(UUID id, String name, OffsetDateTime createdAt) {
  static Workspace of(Row r) {
    return new Workspace(r.getUUID("id"), r.getString("name"), r.getOffsetDateTime("created_at"));
  }

  /** A workspace as its member sees it: with their membership. */
  record Seen(Workspace workspace, Membership membership) {}

  /** A workspace just made, with the role of the account that made it (its first member). */
  public record Created(Workspace workspace, Role role) {}
}
