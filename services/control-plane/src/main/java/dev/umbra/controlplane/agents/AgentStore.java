package dev.umbra.controlplane.agents;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** The SQL of agents; every call runs inside its workspace ({@code Database.inWorkspace}). */
final class AgentStore {

  Future<Agent> insert(SqlConnection conn, Agent a) {
    return conn.preparedQuery(
            "INSERT INTO agents ("
                + Agent.COLUMNS
                + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL)"
                + " ON CONFLICT (workspace_id, ed25519_public_key) DO NOTHING RETURNING "
                + Agent.COLUMNS)
        .execute(
            Tuple.of(
                a.id(),
                a.workspaceId(),
                a.machineId(),
                a.name(),
                Buffer.buffer(a.ed25519PublicKey()),
                Buffer.buffer(a.x25519PublicKey()),
                a.status(),
                a.createdAt()))
        .map(rows -> rows.size() == 0 ? null : Agent.of(rows.iterator().next()));
  }

  Future<Optional<Agent>> find(SqlConnection conn, UUID id) {
    return conn.preparedQuery("SELECT " + Agent.COLUMNS + " FROM agents WHERE id = $1")
        .execute(Tuple.of(id))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(Agent.of(first(rows))));
  }

  Future<List<Agent>> page(SqlConnection conn, UUID after, int fetch) {
    return conn.preparedQuery(
            "SELECT " + Agent.COLUMNS + " FROM agents WHERE id > $1 ORDER BY id LIMIT $2")
        .execute(Tuple.of(after, fetch))
        .map(
            rows -> {
              List<Agent> out = new ArrayList<>();
              rows.forEach(r -> out.add(Agent.of(r)));
              return out;
            });
  }

  /** Approves a pending agent; empty when it is not pending (or unknown). */
  Future<Optional<Agent>> approve(
      SqlConnection conn, UUID id, UUID approvedBy, OffsetDateTime now) {
    return conn.preparedQuery(
            "UPDATE agents SET status = 'approved', approved_at = $2, approved_by = $3"
                + " WHERE id = $1 AND status = 'pending' RETURNING "
                + Agent.COLUMNS)
        .execute(Tuple.of(id, now, approvedBy))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(Agent.of(first(rows))));
  }

  /**
   * Revokes a pending or approved agent and deletes its prekeys; empty when already revoked (or
   * unknown).
   */
  Future<Optional<Agent>> revoke(SqlConnection conn, UUID id, OffsetDateTime now) {
    return conn.preparedQuery(
            "UPDATE agents SET status = 'revoked', revoked_at = $2"
                + " WHERE id = $1 AND status <> 'revoked' RETURNING "
                + Agent.COLUMNS)
        .execute(Tuple.of(id, now))
        .compose(
            rows -> {
              if (rows.size() == 0) {
                return Future.succeededFuture(Optional.<Agent>empty());
              }
              Agent a = Agent.of(first(rows));
              return conn.preparedQuery(
                      "WITH b AS (DELETE FROM prekey_bundles WHERE principal_id = $1)"
                          + " DELETE FROM one_time_prekeys WHERE principal_id = $1")
                  .execute(Tuple.of(id))
                  .map(x -> Optional.of(a));
            });
  }

  private static Row first(io.vertx.sqlclient.RowSet<Row> rows) {
    return rows.iterator().next();
  }
}
