package dev.umbra.bench.audit;

import dev.umbra.audit.chain.StoredEvent;
import dev.umbra.audit.ingest.DeadLetters;
import dev.umbra.audit.ingest.EventStore;
import dev.umbra.audit.ingest.IngestConsumer;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.db.PgLocation;
import dev.umbra.kit.metrics.Metrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Audit ingest throughput against a plain INSERT loop, in one run on the same PostgreSQL, table
 * and events (docs/benchmarks.md, "Audit ingest").
 *
 * <ol>
 *   <li><b>ingest</b>: N events are emitted into the Redis stream first; then the audit service's
 *       own consumer ({@link IngestConsumer}: read batch, decode, validate, lock chain head, de-dup,
 *       SHA-256 chain, multi-row insert, commit, XACK, PUBLISH) drains them. Events/s = N / drain
 *       time.
 *   <li><b>plain INSERT loop</b>: the same N events (already decoded, no chain: zero hashes) into
 *       the same table, one INSERT per event, each its own transaction, as a naive writer would.
 *   <li><b>plain INSERT loop, batched transactions</b>: one INSERT per event, 500 per transaction
 *       (a stronger baseline, reported for honesty).
 * </ol>
 *
 * Arguments: {@code [events=100000] [workspaces=4]}. PostgreSQL server from {@code
 * UMBRA_BENCH_PG_URL} (default postgresql://postgres@127.0.0.1:5432/postgres; a fresh database is
 * created and dropped), Redis from {@code UMBRA_BENCH_REDIS_URL} (default redis://127.0.0.1:6379,
 * random key prefix).
 */
public final class AuditIngestBench {
  private static final String PLAIN_INSERT =
      "INSERT INTO events (" + StoredEvent.COLUMNS + ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13::jsonb,$14,$15)";

  private AuditIngestBench() {}

  public static void main(String[] args) throws Exception {
    int events = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int workspaces = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    URI pgServer = URI.create(env("UMBRA_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"));
    URI redis = URI.create(env("UMBRA_BENCH_REDIS_URL", "redis://127.0.0.1:6379"));
    PgLocation admin = PgLocation.parse(pgServer).withDatabase("postgres");
    String dbName = "umbra_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    PgLocation pg = admin.withDatabase(dbName);
    sql(admin, "CREATE DATABASE " + dbName);
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    Vertx vertx = Vertx.vertx();
    String prefix = "bench" + UUID.randomUUID().toString().substring(0, 8) + ":";
    RedisBus bus = RedisBus.create(vertx, redis, prefix);
    try {
      Database db = await(Database.open(vertx, pg, "audit", "umbra_app", 8));
      List<UUID> ws = new ArrayList<>();
      for (int i = 0; i < workspaces; i++) {
        ws.add(UUID.randomUUID());
      }

      // 1. fill the stream, then drain it through the service's ingest
      AuditEmitter emitter = new AuditEmitter(bus, "relay", Clock.systemUTC(), registry);
      long e0 = System.nanoTime();
      List<Future<String>> appends = new ArrayList<>(events);
      for (int i = 0; i < events; i++) {
        appends.add(emitter.event(AuditAction.RELAY_CHANNEL_OPENED)
            .workspace(ws.get(i % workspaces))
            .actor(AuditActor.device("device-" + (i % 50)))
            .target("machine", "machine-" + (i % 200))
            .sourceIp("203.0.113." + (i % 250))
            .requestId("req-" + i)
            .meta("channel", Integer.toString(i))
            .success()
            .emit());
      }
      await(Future.all(appends));
      double emitRate = rate(events, System.nanoTime() - e0);

      IngestConsumer consumer =
          new IngestConsumer(vertx, bus, new EventStore(db), new DeadLetters(db),
              new IngestConsumer.Settings("bench", Integer.getInteger("umbra.bench.batch", 500), Duration.ofSeconds(60)), registry);
      var stored = registry.get(Metrics.name("audit", "ingest_stored")).counter();
      long i0 = System.nanoTime();
      vertx.runOnContext(v -> consumer.start());
      while (stored.count() < events) {
        Thread.sleep(5);
        if (System.nanoTime() - i0 > TimeUnit.MINUTES.toNanos(10)) {
          throw new IllegalStateException("ingest did not finish: " + stored.count());
        }
      }
      double ingestRate = rate(events, System.nanoTime() - i0);
      var batches = registry.get(Metrics.name("audit", "ingest_batch")).timer();
      var appendTimer = registry.get(Metrics.name("audit", "ingest_append")).timer();
      System.out.printf(Locale.ROOT, "ingest batches=%d mean=%.1f ms, workspace appends=%d mean=%.1f ms, publish_failures=%.0f%n",
          batches.count(), batches.mean(TimeUnit.MILLISECONDS), appendTimer.count(), appendTimer.mean(TimeUnit.MILLISECONDS),
          registry.get(Metrics.name("audit", "live_publish_failures")).counter().count());
      if (Boolean.getBoolean("umbra.bench.ingestOnly")) {
        System.out.printf(Locale.ROOT, "ingest with chain           %,10.0f events/s%n", ingestRate);
        return;
      }
      await(consumer.stop());

      // the same events, as stored, for the baselines
      Pool owner = db.ownerPoolForMaintenance();
      List<Tuple> rows = plainRows(db, events);

      // 2. plain INSERT loop, one transaction per event
      UUID plainWs = UUID.randomUUID();
      long p0 = System.nanoTime();
      for (int i = 0; i < rows.size(); i++) {
        await(owner.preparedQuery(PLAIN_INSERT).execute(withWorkspace(rows.get(i), plainWs, i + 1)));
      }
      double plainRate = rate(events, System.nanoTime() - p0);

      // 3. plain INSERT loop, 500 per transaction
      UUID batchWs = UUID.randomUUID();
      long b0 = System.nanoTime();
      for (int start = 0; start < rows.size(); start += 500) {
        int from = start;
        await(owner.withTransaction(conn -> {
          Future<?> f = Future.succeededFuture();
          for (int i = from; i < Math.min(from + 500, rows.size()); i++) {
            Tuple t = withWorkspace(rows.get(i), batchWs, i + 1);
            f = f.compose(x -> conn.preparedQuery(PLAIN_INSERT).execute(t));
          }
          return f;
        }));
      }
      double batchedRate = rate(events, System.nanoTime() - b0);

      long total = await(owner.query("SELECT count(*) FROM events").execute()).iterator().next().getLong(0);
      System.out.printf(Locale.ROOT, "audit-bench events=%d workspaces=%d cores=%d rows=%d%n",
          events, workspaces, Runtime.getRuntime().availableProcessors(), total);
      System.out.printf(Locale.ROOT, "emit into stream            %,10.0f events/s%n", emitRate);
      System.out.printf(Locale.ROOT, "ingest with chain           %,10.0f events/s%n", ingestRate);
      System.out.printf(Locale.ROOT, "plain INSERT loop           %,10.0f events/s  (ingest/plain = %.2fx)%n",
          plainRate, ingestRate / plainRate);
      System.out.printf(Locale.ROOT, "plain INSERT loop, 500/tx   %,10.0f events/s  (ingest/plain = %.2fx)%n",
          batchedRate, ingestRate / batchedRate);
      await(db.close());
    } finally {
      await(bus.close());
      await(vertx.close());
      sql(admin, "DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)");
    }
  }

  /** The stored events' columns, to be re-inserted with another workspace, seq and zero hashes. */
  private static List<Tuple> plainRows(Database db, int limit) {
    Buffer zero = Buffer.buffer(new byte[32]);
    List<Tuple> out = new ArrayList<>(limit);
    await(db.ownerPoolForMaintenance()
            .query("SELECT " + StoredEvent.COLUMNS + " FROM events WHERE action = 'relay.channel_opened' ORDER BY workspace_id, seq")
            .execute())
        .forEach(r -> {
          JsonObject meta = new JsonObject(new TreeMap<>(((JsonObject) r.getValue("metadata")).getMap()));
          out.add(Tuple.tuple()
              .addValue(null).addValue(null)
              .addValue(r.getString("id")).addValue(r.getString("actor_kind")).addValue(r.getString("actor_id"))
              .addValue(r.getString("action")).addValue(r.getString("target")).addValue(r.getString("outcome"))
              .addValue(r.getLong("time_ms")).addValue(r.getString("source_ip")).addValue(r.getString("request_id"))
              .addValue(r.getString("service")).addValue(meta.encode()).addValue(zero).addValue(zero));
        });
    return out;
  }

  private static Tuple withWorkspace(Tuple t, UUID ws, long seq) {
    Tuple c = Tuple.tuple();
    for (int i = 0; i < t.size(); i++) {
      c.addValue(i == 0 ? ws : i == 1 ? (Object) seq : t.getValue(i));
    }
    return c;
  }

  private static double rate(int n, long nanos) {
    return n / (nanos / 1e9);
  }

  private static String env(String name, String dflt) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? dflt : v;
  }

  private static void sql(PgLocation at, String statement) throws Exception {
    try (Connection c = DriverManager.getConnection(at.jdbcUrl(), at.jdbcProperties());
        Statement st = c.createStatement()) {
      st.execute(statement);
    }
  }

  private static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.MINUTES);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
