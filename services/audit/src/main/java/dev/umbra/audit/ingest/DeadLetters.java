package dev.umbra.audit.ingest;

import dev.umbra.kit.db.Database;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.util.List;

/** Stream entries that cannot be stored, kept (capped) with their reason; re-delivery is idempotent. */
public final class DeadLetters {
  private static final String INSERT =
      "INSERT INTO dead_letters (entry_id, reason, raw, raw_length) "
          + "SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::int[]) ON CONFLICT DO NOTHING";

  private final Database db;

  public DeadLetters(Database db) {
    this.db = db;
  }

  public Future<Void> keep(List<EntryDecoder.Rejected> rejected) {
    if (rejected.isEmpty()) {
      return Future.succeededFuture();
    }
    String[] ids = rejected.stream().map(EntryDecoder.Rejected::entryId).toArray(String[]::new);
    String[] reasons = rejected.stream().map(EntryDecoder.Rejected::reason).toArray(String[]::new);
    Buffer[] raw = rejected.stream().map(r -> Buffer.buffer(r.kept())).toArray(Buffer[]::new);
    Integer[] lengths = rejected.stream().map(EntryDecoder.Rejected::rawLength).toArray(Integer[]::new);
    return db.withTransaction(
        conn ->
            conn.preparedQuery(INSERT)
                .execute(Tuple.tuple().addValue(ids).addValue(reasons).addValue(raw).addValue(lengths))
                .mapEmpty());
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
                                      .put("received_at", r.getOffsetDateTime("received_at").toInstant().toString())));
                      return out;
                    }));
  }
}
