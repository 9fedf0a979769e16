package dev.umbra.controlplane.plans;

import dev.umbra.controlplane.db.Rows;
import dev.umbra.controlplane.sharing.ShareKind;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/**
 * SQL of plans, their versions, comments and verdicts. Every method runs on a connection whose
 * transaction already has its workspace set (row-level security on).
 */
final class PlanStore {

  Future<Plan> insert(
      SqlConnection conn,
      UUID wid,
      UUID id,
      String authorKind,
      UUID authorId,
      String title,
      OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO plans (workspace_id, id, author_kind, author_id, title, version, status,"
                + " created_at, updated_at) VALUES ($1,$2,$3,$4,$5,1,'in_review',$6,$6) RETURNING *")
        .execute(Tuple.of(wid, id, authorKind, authorId, title, now))
        .map(rows -> Rows.first(rows, Plan::of));
  }

  Future<Void> addVersion(
      SqlConnection conn,
      UUID wid,
      UUID planId,
      int version,
      Plan.Draft d,
      String authorKind,
      UUID authorId,
      OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO plan_versions (workspace_id, plan_id, version, title, body, steps,"
                + " author_kind, author_id, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)")
        .execute(
            Tuple.from(
                new Object[] {
                  wid,
                  planId,
                  version,
                  d.title(),
                  d.body(),
                  new JsonArray(List.copyOf(d.steps())),
                  authorKind,
                  authorId,
                  now
                }))
        .mapEmpty();
  }

  /** Moves the plan to {@code version} (back in review); the updated plan. */
  Future<Plan> revise(SqlConnection conn, UUID id, int version, String title, OffsetDateTime now) {
    return conn.preparedQuery(
            "UPDATE plans SET version = $2, title = $3, status = 'in_review', updated_at = $4"
                + " WHERE id = $1 RETURNING *")
        .execute(Tuple.of(id, version, title, now))
        .map(rows -> Rows.first(rows, Plan::of));
  }

  Future<Plan> setStatus(SqlConnection conn, UUID id, String status, OffsetDateTime now) {
    return conn.preparedQuery(
            "UPDATE plans SET status = $2, updated_at = $3 WHERE id = $1 RETURNING *")
        .execute(Tuple.of(id, status, now))
        .map(rows -> Rows.first(rows, Plan::of));
  }

  /** The plan; null when none. {@code forUpdate} locks it for a new version or verdict. */
  Future<Plan> get(SqlConnection conn, UUID id, boolean forUpdate) {
    return conn.preparedQuery(
            "SELECT * FROM plans WHERE id = $1" + (forUpdate ? " FOR UPDATE" : ""))
        .execute(Tuple.of(id))
        .map(rows -> Rows.first(rows, Plan::of));
  }

  /**
   * A page of the plans the actor may see: all for an admin, else those it wrote and those shared
   * with one of its teams.
   */
  Future<List<Plan>> page(
      SqlConnection conn,
      boolean admin,
      String authorKind,
      UUID authorId,
      UUID memberId,
      UUID after,
      int limit) {
    return conn.preparedQuery(
            "SELECT p.* FROM plans p WHERE p.id > $1 AND ($2 OR (p.author_kind = $3 AND"
                + " p.author_id = $4) OR "
                + ShareKind.PLAN.sharedWithMember("p", 5)
                + ") ORDER BY p.id LIMIT $6")
        .execute(Tuple.of(after, admin, authorKind, authorId, memberId, limit))
        .map(rows -> Rows.all(rows, Plan::of));
  }

  /** The version; null when none. */
  Future<Plan.Version> version(SqlConnection conn, UUID planId, int version) {
    return conn.preparedQuery("SELECT * FROM plan_versions WHERE plan_id = $1 AND version = $2")
        .execute(Tuple.of(planId, version))
        .map(rows -> Rows.first(rows, Plan.Version::of));
  }

  Future<List<Plan.Comment>> comments(SqlConnection conn, UUID planId) {
    return conn.preparedQuery("SELECT * FROM plan_comments WHERE plan_id = $1 ORDER BY id")
        .execute(Tuple.of(planId))
        .map(rows -> Rows.all(rows, Plan.Comment::of));
  }

  Future<List<Plan.Verdict>> verdicts(SqlConnection conn, UUID planId) {
    return conn.preparedQuery("SELECT * FROM plan_verdicts WHERE plan_id = $1 ORDER BY id")
        .execute(Tuple.of(planId))
        .map(rows -> Rows.all(rows, Plan.Verdict::of));
  }

  Future<Plan.Comment> comment(
      SqlConnection conn,
      UUID wid,
      UUID id,
      Plan plan,
      String authorKind,
      UUID authorId,
      String body,
      OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO plan_comments (workspace_id, id, plan_id, version, author_kind, author_id,"
                + " body, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING *")
        .execute(
            Tuple.from(
                new Object[] {wid, id, plan.id(), plan.version(), authorKind, authorId, body, now}))
        .map(rows -> Rows.first(rows, Plan.Comment::of));
  }

  Future<Plan.Verdict> verdict(
      SqlConnection conn,
      UUID wid,
      UUID id,
      Plan plan,
      UUID accountId,
      String verdict,
      String note,
      OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO plan_verdicts (workspace_id, id, plan_id, version, account_id, verdict,"
                + " note, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING *")
        .execute(
            Tuple.from(
                new Object[] {wid, id, plan.id(), plan.version(), accountId, verdict, note, now}))
        .map(rows -> Rows.first(rows, Plan.Verdict::of));
  }
}
