package dev.umbra.controlplane.workspaces;

import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/** A team of a workspace as stored. */
record Team(UUID id, String name, OffsetDateTime createdAt) {
  static Team of(Row r) {
    return new Team(r.getUUID("id"), r.getString("name"), r.getOffsetDateTime("created_at"));
  }

  /** A team with its members' ids, in id order. */
  record WithMembers(Team team, List<UUID> memberIds) {}
}
