package dev.umbra.controlplane.db;

import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** What the stores do with a result: every row as a record, or the first one (null when none). */
public final class Rows {
  private Rows() {}

  public static <T> List<T> all(RowSet<Row> rows, Function<Row, T> map) {
    List<T> list = new ArrayList<>(rows.size());
    rows.forEach(r -> list.add(map.apply(r)));
    return list;
  }

  public static <T> T first(RowSet<Row> rows, Function<Row, T> map) {
    return rows.size() == 0 ? null : map.apply(rows.iterator().next());
  }
}
