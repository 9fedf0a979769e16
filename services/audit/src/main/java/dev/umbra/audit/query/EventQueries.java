package dev.umbra.audit.query;

import dev.umbra.audit.chain.StoredEvent;
import dev.umbra.kit.db.Database;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Reads one workspace's events with a filter, in chain order, as the application role inside that
 * workspace (row-level security) and with an explicit workspace condition (double check).
 */
public final class EventQueries {
  private final Database db;

  public EventQueries(Database db) {
    this.db = db;
  }

  /** One page and the cursor of the next one (null at the end). */
  public record Page(List<StoredEvent> events, String nextCursor) {}

  public Future<Page> page(UUID workspace, EventFilter f) {
    StringBuilder sql =
        new StringBuilder("SELECT ")
            .append(StoredEvent.COLUMNS)
            .append(" FROM events WHERE workspace_id = $1");
    Tuple params = Tuple.tuple().addValue(workspace);
    f.fromMs().ifPresent(v -> cond(sql, params, "time_ms >= ", v));
    f.toMs().ifPresent(v -> cond(sql, params, "time_ms < ", v));
    f.actorKind().ifPresent(v -> cond(sql, params, "actor_kind = ", v));
    f.actorId().ifPresent(v -> cond(sql, params, "actor_id = ", v));
    if (!f.actions().isEmpty()) {
      params.addValue(f.actions().toArray(String[]::new));
      sql.append(" AND action = ANY($").append(params.size()).append("::text[])");
    }
    f.target().ifPresent(v -> cond(sql, params, "target = ", v));
    f.outcome().ifPresent(v -> cond(sql, params, "outcome = ", v));
    f.afterSeq().ifPresent(v -> cond(sql, params, f.ascending() ? "seq > " : "seq < ", v));
    sql.append(" ORDER BY seq ")
        .append(f.ascending() ? "ASC" : "DESC")
        .append(" LIMIT ")
        .append(f.limit() + 1);
    return db.inWorkspace(workspace, conn -> conn.preparedQuery(sql.toString()).execute(params))
        .map(
            rows -> {
              List<StoredEvent> out = new ArrayList<>(rows.size());
              for (Row r : rows) {
                out.add(StoredEvent.fromRow(r));
              }
              String next = null;
              if (out.size() > f.limit()) {
                out = out.subList(0, f.limit());
                next = f.cursorAfter(out.get(out.size() - 1).seq());
              }
              return new Page(out, next);
            });
  }

  private static void cond(StringBuilder sql, Tuple params, String clause, Object value) {
    params.addValue(value);
    sql.append(" AND ").append(clause).append('$').append(params.size());
  }
}
