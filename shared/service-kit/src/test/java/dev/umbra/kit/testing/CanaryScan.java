package dev.umbra.kit.testing;

import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The blindness canary's scanners (DESIGN.md §6): every PostgreSQL table of a test database and
 * every Redis key (any type, streams included: audit ingest) of a test prefix, searched for the
 * forms of a canary. Each answers what it scanned as well as where it found one, so a test can
 * check the scan itself was not empty. Forms are matched without regard to case (hex may be written
 * in upper case, text folded), so a match is never missed for its case.
 */
public final class CanaryScan {
  private CanaryScan() {}

  /** What a scan looked at and where it found a form of the canary. */
  public record Result(List<String> scanned, long items, List<String> found) {}

  /**
   * Each canary as text, as hex of its UTF-8, and as the start of its base64 (standard and URL
   * alphabets) up to 40 characters: the part that does not depend on what follows the canary (a
   * canary under 12 bytes: its whole padded base64).
   */
  public static List<String> forms(String... canaries) {
    List<String> forms = new ArrayList<>();
    for (String canary : canaries) {
      byte[] utf8 = canary.getBytes(StandardCharsets.UTF_8);
      forms.add(canary);
      forms.add(HexFormat.of().formatHex(utf8));
      int stable = Math.min(40, 4 * (utf8.length / 3));
      if (stable >= 16) {
        forms.add(Base64.getEncoder().withoutPadding().encodeToString(utf8).substring(0, stable));
        forms.add(
            Base64.getUrlEncoder().withoutPadding().encodeToString(utf8).substring(0, stable));
      } else {
        forms.add(Base64.getEncoder().encodeToString(utf8)); // too short for a stable start
      }
    }
    return List.copyOf(forms);
  }

  /** Whether {@code text} holds any of {@code forms}, in any case. */
  public static boolean holds(String text, List<String> forms) {
    String folded = text.toLowerCase(Locale.ROOT);
    return forms.stream().anyMatch(f -> folded.contains(f.toLowerCase(Locale.ROOT)));
  }

  /**
   * Every table of every schema (from the catalog, so new tables are in), row by row as text;
   * found: {@code PostgreSQL table <schema.table>}, once a table.
   */
  public static Result postgres(TestPostgres pg, List<String> forms) throws Exception {
    Result tables = postgresTables(pg, forms);
    return new Result(
        tables.scanned(),
        tables.items(),
        tables.found().stream().map(t -> "PostgreSQL table " + t).toList());
  }

  /** As {@link #postgres}, found naming only the tables ({@code schema.table}). */
  public static Result postgresTables(TestPostgres pg, List<String> forms) throws Exception {
    List<String> tables = new ArrayList<>();
    List<String> found = new ArrayList<>();
    long rows = 0;
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement()) {
      try (ResultSet r =
          st.executeQuery(
              "SELECT schemaname || '.' || tablename FROM pg_tables"
                  + " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")) {
        while (r.next()) {
          tables.add(r.getString(1));
        }
      }
      for (String t : tables) {
        boolean holds = false;
        try (ResultSet r = st.executeQuery("SELECT t::text FROM " + t + " t")) {
          while (r.next()) {
            rows++;
            holds |= holds(r.getString(1), forms);
          }
        }
        if (holds) {
          found.add(t);
        }
      }
    }
    return new Result(tables, rows, found);
  }

  /**
   * Every key under {@code prefix}: its name and its whole value by type (streams entry by entry);
   * a type without a reader here, by its {@code DUMP}.
   */
  public static Result redis(Vertx vertx, String prefix, List<String> forms) throws Exception {
    Redis redis = Redis.createClient(vertx, TestRedis.url().toString());
    List<String> keys = new ArrayList<>();
    List<String> found = new ArrayList<>();
    try {
      String cursor = "0";
      do {
        Response r =
            send(
                redis,
                Request.cmd(Command.SCAN)
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(prefix + "*")
                    .arg("COUNT")
                    .arg(500));
        cursor = r.get(0).toString();
        r.get(1).forEach(k -> keys.add(k.toString()));
      } while (!cursor.equals("0"));
      for (String key : keys) {
        Request dump =
            switch (send(redis, Request.cmd(Command.TYPE).arg(key)).toString()) {
              case "stream" -> Request.cmd(Command.XRANGE).arg(key).arg("-").arg("+");
              case "string" -> Request.cmd(Command.GET).arg(key);
              case "hash" -> Request.cmd(Command.HGETALL).arg(key);
              case "set" -> Request.cmd(Command.SMEMBERS).arg(key);
              case "zset" -> Request.cmd(Command.ZRANGE).arg(key).arg(0).arg(-1);
              case "list" -> Request.cmd(Command.LRANGE).arg(key).arg(0).arg(-1);
              case "none" -> null; // gone since the SCAN
              default -> Request.cmd(Command.DUMP).arg(key);
            };
        String text = dump == null ? "" : flatten(send(redis, dump));
        if (holds(key, forms) || holds(text, forms)) {
          found.add("Redis key " + key);
        }
      }
    } finally {
      redis.close();
    }
    return new Result(keys, keys.size(), found);
  }

  /** Lines (log lines, bus messages) that hold a form, each named {@code what}. */
  public static List<String> lines(String what, List<String> lines, List<String> forms) {
    List<String> found = new ArrayList<>();
    for (String line : lines) {
      if (holds(line, forms)) {
        found.add(what + ": " + line);
      }
    }
    return found;
  }

  private static Response send(Redis redis, Request r) throws Exception {
    return redis.send(r).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static String flatten(Response r) {
    if (r == null) {
      return "";
    }
    if (r.type() == ResponseType.MULTI || r.type() == ResponseType.PUSH) {
      StringBuilder sb = new StringBuilder();
      for (Response child : r) {
        sb.append(flatten(child)).append('\n');
      }
      return sb.toString();
    }
    return r.toBuffer().toString(StandardCharsets.ISO_8859_1);
  }
}
