package dev.umbra.controlplane.plans;

import io.vertx.core.json.JsonArray;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;

/** A plan as stored: its current version's title and its review status. */
record Plan(
    UUID id,
    String authorKind,
    UUID authorId,
    String title,
    int version,
    String status,
    OffsetDateTime createdAt,
    OffsetDateTime updatedAt) {

  static Plan of(Row r) {
    return new Plan(
        r.getUUID("id"),
        r.getString("author_kind"),
        r.getUUID("author_id"),
        r.getString("title"),
        r.getInteger("version"),
        r.getString("status"),
        r.getOffsetDateTime("created_at"),
        r.getOffsetDateTime("updated_at"));
  }

  /** One published version, kept. */
  record Version(
      int version,
      String title,
      String body,
      List<String> steps,
      String authorKind,
      UUID authorId,
      OffsetDateTime createdAt) {
    static Version of(Row r) {
      JsonArray steps = (JsonArray) r.getJson("steps");
      return new Version(
          r.getInteger("version"),
          r.getString("title"),
          r.getString("body"),
          steps.stream().map(String::valueOf).toList(),
          r.getString("author_kind"),
          r.getUUID("author_id"),
          r.getOffsetDateTime("created_at"));
    }
  }

  record Comment(
      UUID id,
      int version,
      String authorKind,
      UUID authorId,
      String body,
      OffsetDateTime createdAt) {
    static Comment of(Row r) {
      return new Comment(
          r.getUUID("id"),
          r.getInteger("version"),
          r.getString("author_kind"),
          r.getUUID("author_id"),
          r.getString("body"),
          r.getOffsetDateTime("created_at"));
    }
  }

  record Verdict(
      UUID id, int version, UUID accountId, String verdict, String note, OffsetDateTime createdAt) {
    static Verdict of(Row r) {
      return new Verdict(
          r.getUUID("id"),
          r.getInteger("version"),
          r.getUUID("account_id"),
          r.getString("verdict"),
          r.getString("note"),
          r.getOffsetDateTime("created_at"));
    }
  }

  /** A plan with the version asked for, every comment and verdict, and its teams. */
  record Full(
      Plan plan,
      Version shown,
      List<Comment> comments,
      List<Verdict> verdicts,
      List<UUID> teamIds) {}

  /** What a publisher sends: a title, a markdown body, steps, and teams to share with at once. */
  record Draft(String title, String body, List<String> steps, List<UUID> teamIds) {}
}
