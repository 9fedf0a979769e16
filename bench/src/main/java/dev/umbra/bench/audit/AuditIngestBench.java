package dev.umbra.bench.audit;

import dev.umbra.audit.chain.StoredEvent;
import dev.umbra.audit.ingest.DeadLetters;
import dev.umbra.audit.ingest.EventStore;
import dev.umbra.audit.ingest.IngestConsumer;
import dev.umbra.bench.BenchRuns;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.db.PgLocation;
import dev.umbra.kit.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Audit ingest throughput against plain INSERT loops, in one run on the same PostgreSQL, table and
 * events (docs/benchmarks.md, "Audit ingest"). The machine this runs on is shared, so the phases
 * are interleaved in rounds (each round measures every phase once, on fresh workspaces) and the
 * report gives per-round ratios and their median, which both sides' load affects alike.
 *
 * <ul>
 *   <li><b>ingest</b>: a round's events are emitted into the Redis stream first (consumer stopped);
 *       then the audit service's own consumer ({@link IngestConsumer}: read batch, decode,
 *       validate, lock chain head, de-dup, SHA-256 chain, multi-row insert, commit, XACK, PUBLISH)
 *       is started and drains them. Events/s = events / drain time.
 *   <li><b>plain INSERT loop</b>: the same events (already decoded; zero hashes, no chain, no
 *       stream) into the same table, one INSERT per event, each its own transaction: a naive
 *       writer. It is slow, so it runs on a quarter of the round's events.
 *   <li><b>plain INSERT loop, 500 per transaction</b>: one INSERT per event, 500 per transaction.
 *   <li><b>plain multi-row INSERT</b>: 500 rows per statement and transaction, no chain, no stream,
 *       no de-dup: the ceiling of what the table takes, for context.
 * </ul>
 *
 * Arguments: {@code [rounds=5] [eventsPerRound=20000] [workspaces=4]}; a warm-up round comes first
 * and is not counted. System property {@code umbra.bench.batch} sets the consumer's batch size
 * (default 2000, the service's default). PostgreSQL server from {@code UMBRA_BENCH_PG_URL} (default
 * postgresql://postgres@127.0.0.1:5432/postgres; a fresh database is created and dropped), Redis
 * from {@code UMBRA_BENCH_REDIS_URL} (default redis://127.0.0.1:6379, random key prefix).
 */
public final class AuditIngestBench {
  private static final String PLAIN_INSERT =
      "INSERT INTO events ("
          + StoredEvent.COLUMNS
          + ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13::jsonb,$14,$15)";
  private static final String MULTI_INSERT =
      "INSERT INTO events ("
          + StoredEvent.COLUMNS
          + ") "
          + "SELECT $1, t.seq, t.id, t.ak, t.ai, t.ac, t.tg, t.oc, t.tm, t.ip, t.rq, t.sv, t.md::jsonb, t.ph, t.h "
          + "FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], "
          + "$9::bigint[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bytea[], $15::bytea[]) "
          + "AS t(seq, id, ak, ai, ac, tg, oc, tm, ip, rq, sv, md, ph, h)";
  private static final int TX_ROWS = 500;

  private AuditIngestBench() {}

  record Round(double ingest, double plain, double plainBatched, double multiRow) {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int events = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
    int workspaces = args.length > 2 ? Integer.parseInt(args[2]) : 4;
    URI pgServer =
        URI.create(
            BenchRuns.env("UMBRA_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"));
    URI redis = URI.create(BenchRuns.env("UMBRA_BENCH_REDIS_URL", "redis://127.0.0.1:6379"));
    PgLocation admin = PgLocation.parse(pgServer).withDatabase("postgres");
    String dbName = "umbra_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    PgLocation pg = admin.withDatabase(dbName);
    BenchRuns.sql(admin, "CREATE DATABASE " + dbName);
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    // built as the audit service's Main builds it (ServiceMain): epoll, not NIO
    Vertx vertx = Metrics.newVertx(registry);
    String prefix = "bench" + UUID.randomUUID().toString().substring(0, 8) + ":";
    RedisBus bus = RedisBus.create(vertx, redis, prefix);
    try {
      Database db = await(Database.open(vertx, pg, "audit", "umbra_app", 8));
      Pool owner = db.ownerPoolForMaintenance();
      AuditEmitter emitter = new AuditEmitter(bus, "relay", Clock.systemUTC(), registry);
      EventStore store = new EventStore(db);
      DeadLetters deadLetters = new DeadLetters(db);
      var stored = registry.counter(Metrics.name("audit", "ingest_stored"));
      List<Round> results = new ArrayList<>();
      for (int round = 0; round <= rounds; round++) { // round 0 warms the JIT up and is not counted
        // ingest: fill the stream, then drain it through the service's consumer
        List<UUID> ws = new ArrayList<>();
        for (int i = 0; i < workspaces; i++) {
          ws.add(UUID.randomUUID());
        }
        fillStream(emitter, ws, events);
        double ingest = drain(vertx, bus, store, deadLetters, registry, stored, events);

        // the same events as stored, for the baselines
        List<Tuple> rows = storedRows(owner, ws);
        double plain = plainLoop(owner, rows.subList(0, events / 4), 1);
        double plainBatched = plainLoop(owner, rows, TX_ROWS);
        double multiRow = multiRow(owner, rows);
        Round r = new Round(ingest, plain, plainBatched, multiRow);
        if (round > 0) {
          results.add(r);
        }
        System.out.printf(
            Locale.ROOT,
            "%s: ingest %,.0f/s  plain loop %,.0f/s (%.2fx)  plain loop 500/tx %,.0f/s (%.2fx)  multi-row %,.0f/s (%.2fx)%n",
            round == 0 ? "warm-up" : "round " + round,
            ingest,
            plain,
            ingest / plain,
            plainBatched,
            ingest / plainBatched,
            multiRow,
            ingest / multiRow);
      }
      long total =
          await(owner.query("SELECT count(*) FROM events").execute()).iterator().next().getLong(0);
      printSummary(results, rounds, events, workspaces, total);
      await(db.close());
    } finally {
      await(bus.close());
      await(vertx.close());
      BenchRuns.sql(admin, "DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)");
    }
  }

  /**
   * Drains {@code events} from the stream through the audit service's own consumer; its rate in
   * events per second (stored counts what the consumer wrote).
   */
  private static double drain(
      Vertx vertx,
      RedisBus bus,
      EventStore store,
      DeadLetters deadLetters,
      PrometheusMeterRegistry registry,
      Counter stored,
      int events)
      throws Exception {
    IngestConsumer consumer =
        new IngestConsumer(
            vertx,
            bus,
            store,
            deadLetters,
            new IngestConsumer.Settings(
                "bench", Integer.getInteger("umbra.bench.batch", 2_000), Duration.ofSeconds(60)),
            registry);
    double before = stored.count();
    long i0 = System.nanoTime();
    vertx.runOnContext(v -> consumer.start());
    while (stored.count() - before < events) {
      Thread.sleep(2);
      if (System.nanoTime() - i0 > TimeUnit.MINUTES.toNanos(10)) {
        throw new IllegalStateException("ingest did not finish");
      }
    }
    double ingest = rate(events, System.nanoTime() - i0);
    Future<Void> stopping =
        Future.future(p -> vertx.runOnContext(v -> consumer.stop().onComplete(p)));
    await(stopping);
    return ingest;
  }

  /**
   * Appends {@code events} audit events over the workspaces to the ingest stream, as a service
   * would.
   */
  private static void fillStream(AuditEmitter emitter, List<UUID> ws, int events) throws Exception {
    List<Future<String>> appends = new ArrayList<>(events);
    for (int i = 0; i < events; i++) {
      appends.add(
          emitter
              .event(AuditAction.RELAY_CHANNEL_OPENED)
              .workspace(ws.get(i % ws.size()))
              .actor(AuditActor.device("device-" + (i % 50)))
              .target("machine", "machine-" + (i % 200))
              .sourceIp("203.0.113." + (i % 250))
              .requestId("req-" + i)
              .meta("channel", Integer.toString(i))
              .success()
              .emit());
    }
    await(Future.all(appends));
  }

  private static void printSummary(
      List<Round> results, int rounds, int events, int workspaces, long total) {
    System.out.printf(
        Locale.ROOT,
        "audit-bench rounds=%d events/round=%d workspaces=%d cores=%d rows=%d load=%.1f%n",
        rounds,
        events,
        workspaces,
        Runtime.getRuntime().availableProcessors(),
        total,
        java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    System.out.printf(
        Locale.ROOT,
        "median ingest with chain          %,10.0f events/s (best round %,.0f)%n",
        median(results, Round::ingest),
        results.stream().mapToDouble(Round::ingest).max().orElse(0));
    System.out.printf(
        Locale.ROOT,
        "median plain INSERT loop          %,10.0f events/s  ingest/plain median of rounds %.2fx%n",
        median(results, Round::plain),
        medianRatio(results, Round::plain));
    System.out.printf(
        Locale.ROOT,
        "median plain INSERT loop 500/tx   %,10.0f events/s  ingest/plain median of rounds %.2fx%n",
        median(results, Round::plainBatched),
        medianRatio(results, Round::plainBatched));
    System.out.printf(
        Locale.ROOT,
        "median plain multi-row INSERT     %,10.0f events/s  ingest/plain median of rounds %.2fx%n",
        median(results, Round::multiRow),
        medianRatio(results, Round::multiRow));
  }

  /** The stored events' columns (zero hashes), to be inserted again under another workspace. */
  private static List<Tuple> storedRows(Pool owner, List<UUID> workspaces) {
    Buffer zero = Buffer.buffer(new byte[32]);
    List<Tuple> out = new ArrayList<>();
    await(
            owner
                .preparedQuery(
                    "SELECT "
                        + StoredEvent.COLUMNS
                        + " FROM events WHERE workspace_id = ANY($1::uuid[]) "
                        + "AND action = 'relay.channel_opened' ORDER BY workspace_id, seq")
                .execute(Tuple.tuple().addValue(workspaces.toArray(UUID[]::new))))
        .forEach(
            r -> {
              JsonObject meta =
                  new JsonObject(new TreeMap<>(((JsonObject) r.getValue("metadata")).getMap()));
              out.add(
                  Tuple.tuple()
                      .addValue(null)
                      .addValue(null)
                      .addValue(r.getString("id"))
                      .addValue(r.getString("actor_kind"))
                      .addValue(r.getString("actor_id"))
                      .addValue(r.getString("action"))
                      .addValue(r.getString("target"))
                      .addValue(r.getString("outcome"))
                      .addValue(r.getLong("time_ms"))
                      .addValue(r.getString("source_ip"))
                      .addValue(r.getString("request_id"))
                      .addValue(r.getString("service"))
                      .addValue(meta.encode())
                      .addValue(zero)
                      .addValue(zero));
            });
    return out;
  }

  /** One INSERT per event, {@code perTx} per transaction (1: autocommit), in a fresh workspace. */
  private static double plainLoop(Pool owner, List<Tuple> rows, int perTx) {
    UUID ws = UUID.randomUUID();
    long t0 = System.nanoTime();
    if (perTx == 1) {
      for (int i = 0; i < rows.size(); i++) {
        await(owner.preparedQuery(PLAIN_INSERT).execute(withWorkspace(rows.get(i), ws, i + 1)));
      }
    } else {
      for (int start = 0; start < rows.size(); start += perTx) {
        int from = start;
        await(
            owner.withTransaction(
                conn -> {
                  Future<?> f = Future.succeededFuture();
                  for (int i = from; i < Math.min(from + perTx, rows.size()); i++) {
                    Tuple t = withWorkspace(rows.get(i), ws, i + 1);
                    f = f.compose(x -> conn.preparedQuery(PLAIN_INSERT).execute(t));
                  }
                  return f;
                }));
      }
    }
    return rate(rows.size(), System.nanoTime() - t0);
  }

  /** 500 rows per multi-row statement, one transaction each, in a fresh workspace. */
  private static double multiRow(Pool owner, List<Tuple> rows) {
    UUID ws = UUID.randomUUID();
    long t0 = System.nanoTime();
    for (int start = 0; start < rows.size(); start += TX_ROWS) {
      List<Tuple> part = rows.subList(start, Math.min(start + TX_ROWS, rows.size()));
      Tuple params = Tuple.tuple().addValue(ws);
      int n = part.size();
      Long[] seq = new Long[n];
      for (int i = 0; i < n; i++) {
        seq[i] = (long) start + i + 1;
      }
      params.addValue(seq);
      for (int col = 2; col < 15; col++) {
        int c = col;
        Object[] values =
            switch (c) {
              case 8 -> part.stream().map(t -> t.getLong(c)).toArray(Long[]::new);
              case 13, 14 -> part.stream().map(t -> t.getBuffer(c)).toArray(Buffer[]::new);
              default -> part.stream().map(t -> t.getString(c)).toArray(String[]::new);
            };
        params.addValue(values);
      }
      await(owner.withTransaction(conn -> conn.preparedQuery(MULTI_INSERT).execute(params)));
    }
    return rate(rows.size(), System.nanoTime() - t0);
  }

  private static double median(List<Round> rounds, java.util.function.ToDoubleFunction<Round> f) {
    double[] v = rounds.stream().mapToDouble(f).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  private static double medianRatio(
      List<Round> rounds, java.util.function.ToDoubleFunction<Round> baseline) {
    double[] v =
        rounds.stream().mapToDouble(r -> r.ingest() / baseline.applyAsDouble(r)).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
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

  private static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.MINUTES);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
