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
import java.util.concurrent.TimeUnit;

/**
 * The blindness canary's scanners (DESIGN.md §6): every PostgreSQL table of a test database and
 * every Redis key (any type, streams included: audit ingest) of a test prefix, searched for the
 * forms of a canary. Each answers what it scanned as well as where it found one, so a test can
 * check the scan itself was not empty.
 */
public final class CanaryScan {
  private CanaryScan() {}

  /** What a scan looked at and where it found a form of the canary. */
  public record Result(List<String> scanned, long items, List<String> found) {}

  /** The canary as text, as hex of its UTF-8, and as the first 40 characters of its base64. */
  public static List<String> forms(String canary) {
    byte[] utf8 = canary.getBytes(StandardCharsets.UTF_8);
    return List.of(
        canary,
        HexFormat.of().formatHex(utf8),
        Base64.getEncoder().withoutPadding().encodeToString(utf8).substring(0, 40),
        Base64.getUrlEncoder().withoutPadding().encodeToString(utf8).substring(0, 40));
  }

  /** Every table of every schema (from the catalog, so new tables are in), row by row as text. */
  public static Result postgres(TestPostgres pg, List<String> forms) throws Exception {
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
        try (ResultSet r = st.executeQuery("SELECT t::text FROM " + t + " t")) {
          while (r.next()) {
            rows++;
            String row = r.getString(1);
            for (String f : forms) {
              if (row.contains(f)) {
                found.add("PostgreSQL table " + t);
              }
            }
          }
        }
      }
    }
    return new Result(tables, rows, found);
  }

  /** Every key under {@code prefix}, its whole value by type. */
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
              default -> null;
            };
        if (dump != null) {
          String text = flatten(send(redis, dump));
          for (String f : forms) {
            if (text.contains(f)) {
              found.add("Redis key " + key);
            }
          }
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
      for (String f : forms) {
        if (line.contains(f)) {
          found.add(what + ": " + line);
        }
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
