package dev.umbra.audit.ingest;

import dev.umbra.kit.db.Database;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.util.List;

/**
 * Stream entries that cannot be stored, kept (capped) with their reason; re-delivery is idempotent.
 */
public final class DeadLetters {
  private static final String INSERT =
      "INSERT INTO dead_letters (entry_id, reason, raw, raw_length) "
          + "SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::int[]) ON CONFLICT DO NOTHING "
          + "RETURNING entry_id";

  private final Database db;

  public DeadLetters(Database db) {
    this.db = db;
  }

  /** Keeps the entries; returns the ids newly kept (a re-delivered one is kept once). */
  public Future<java.util.Set<String>> keep(List<EntryDecoder.Rejected> rejected) {
    if (rejected.isEmpty()) {
      return Future.succeededFuture(java.util.Set.of());
    }
    String[] ids = rejected.stream().map(EntryDecoder.Rejected::entryId).toArray(String[]::new);
    String[] reasons = rejected.stream().map(EntryDecoder.Rejected::reason).toArray(String[]::new);
    Buffer[] raw = rejected.stream().map(r -> Buffer.buffer(r.kept())).toArray(Buffer[]::new);
    Integer[] lengths =
        rejected.stream().map(EntryDecoder.Rejected::rawLength).toArray(Integer[]::new);
    return db.withTransaction(
        conn ->
            conn.preparedQuery(INSERT)
                .execute(
                    Tuple.tuple().addValue(ids).addValue(reasons).addValue(raw).addValue(lengths))
                .map(
                    rows -> {
                      java.util.Set<String> kept = new java.util.HashSet<>();
                      rows.forEach(r -> kept.add(r.getString(0)));
                      return kept;
                    }));
  }

  /**
   * Appends a dead letter's bytes to the ingest stream again (after the cause was fixed, e.g. an
   * audit service that now knows the action) and forgets it; the new entry id, or empty when there
   * is no such dead letter. Fails with {@link IllegalStateException} when the kept bytes are not
   * the original entry (cut to {@link EntryDecoder#MAX_KEPT_BYTES} or metadata blanked).
   */
  public Future<java.util.Optional<String>> redrive(String entryId, dev.umbra.kit.bus.Bus bus) {
    return db.withTransaction(
        conn ->
            conn.preparedQuery(
                    "SELECT reason, raw, raw_length FROM dead_letters WHERE entry_id = $1 FOR UPDATE")
                .execute(Tuple.of(entryId))
                .compose(
                    rows -> {
                      if (rows.size() == 0) {
                        return Future.succeededFuture(java.util.Optional.<String>empty());
                      }
                      var r = rows.iterator().next();
                      Buffer raw = r.getBuffer("raw");
                      String reason = r.getString("reason");
                      if (raw.length() != r.getInteger("raw_length")
                          || reason.equals("forbidden_metadata_key")
                          || reason.equals("bad_metadata")) {
                        return Future.failedFuture(
                            new IllegalStateException(
                                "only part of this entry was kept; it cannot be re-driven"));
                      }
                      return bus.append(
                              dev.umbra.kit.audit.AuditEmitter.INGEST_STREAM,
                              raw,
                              dev.umbra.kit.audit.AuditEmitter.STREAM_MAX_LENGTH)
                          .compose(
                              newId ->
                                  conn.preparedQuery("DELETE FROM dead_letters WHERE entry_id = $1")
                                      .execute(Tuple.of(entryId))
                                      .map(x -> java.util.Optional.of(newId)));
                    }));
  }

  /** The newest dead letters (without their bytes), for the admin endpoint. */
  public Future<JsonArray> recent(int limit) {
    return db.withTransaction(
        conn ->
            conn.preparedQuery(
                    "SELECT entry_id, reason, raw_length, received_at FROM dead_letters "
                        + "ORDER BY received_at DESC LIMIT $1")
                .execute(Tuple.of(limit))
                .map(
                    rows -> {
                      JsonArray out = new JsonArray();
                      rows.forEach(
                          r ->
                              out.add(
                                  new JsonObject()
                                      .put("entry_id", r.getString("entry_id"))
                                      .put("reason", r.getString("reason"))
                                      .put("raw_length", r.getInteger("raw_length"))
                                      .put(
                                          "received_at",
                                          r.getOffsetDateTime("received_at")
                                              .toInstant()
                                              .toString())));
                      return out;
                    }));
  }
}
