package dev.umbra.controlplane.notify;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.proto.audit.AuditEvent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Audit events written down in the transaction of what they record (migration V40,
 * docs/messaging.md, "Audit"; docs/audit.md, "Written down before appended"), so that an action
 * that was committed is audited even if its instance is killed between the commit and the append to
 * the audit stream, or Redis stays away longer than the emitter retries: message sends ({@link
 * #insert}, after the send's statement, no extra round trip) and the control plane's actions that
 * change who may do what ({@link #writeDown}, through {@link AuditTrail#memberWill}). After the
 * commit the instance appends the event and hands its id to {@link #emitted}, which deletes the
 * rows in batches. {@link #sweep} (every instance, every {@value #SWEEP_EVERY_MS} ms) appends again
 * what is older than {@link #SWEEP_AGE} — an event whose instance died, or whose append failed —
 * under its own id, then deletes it: the audit service keeps one event per id, so an event appended
 * twice (a sweep racing a slow append, two instances sweeping at once) is stored once. Counted in
 * {@code umbra_control_plane_audit_outbox{outcome}}.
 */
public final class AuditOutbox {
  private static final Logger log = LoggerFactory.getLogger(AuditOutbox.class);

  /** An event not appended and deleted by its instance within this long is appended by a sweep. */
  public static final Duration SWEEP_AGE = Duration.ofSeconds(10);

  static final long SWEEP_EVERY_MS = 5_000;

  /** How often the rows of appended events are deleted (one statement per workspace). */
  static final long DELETE_EVERY_MS = 200;

  /** Rows one sweep appends per workspace; workspaces one sweep visits. */
  static final int SWEEP_ROWS = 500;

  static final int SWEEP_WORKSPACES = 1000;

  /** Appended events whose rows wait for deletion; beyond, a sweep appends them again (deduped). */
  static final int MAX_TO_DELETE = 100_000;

  /** A send's prepared event, and its sending agent (null for a device: the actor is in it). */
  public record Entry(UUID messageId, AuditEvent event, UUID agent) {}

  /**
   * Writes the rows of the sends of this transaction that stored a copy, by {@code
   * audit_outbox_insert} (migration V41: its statement planned once per connection, not on every
   * send): a claim made by this transaction has its id as {@code xmin} (a resend's older claims do
   * not, a refused send has none; {@code message_send} runs no subtransaction), so a send that
   * stored nothing writes no row — whatever the clocks say (two transactions may read the same
   * time). The agent's machine is read there, in the transaction that checked it.
   */
  public static final String INSERT =
      "SELECT audit_outbox_insert($1, $2, $3::uuid[], $4::text[], $5::bytea[], $6::uuid[])"
          + " AS written";

  private final Vertx vertx;
  private final Database db;
  private final AuditEmitter audit;
  private final Clock clock;
  private final Map<String, Counter> counted = new HashMap<>();
  private final Map<UUID, List<String>> toDelete = new HashMap<>(); // guarded by itself
  private int waiting; // guarded by toDelete
  private boolean sweeping;
  private long sweepTimer = -1;
  private long deleteTimer = -1;

  public AuditOutbox(
      Vertx vertx, Database db, AuditEmitter audit, Clock clock, MeterRegistry registry) {
    this.vertx = vertx;
    this.db = db;
    this.audit = audit;
    this.clock = clock;
    for (String outcome : List.of("appended", "swept", "sweep_failed", "unreadable", "dropped")) {
      counted.put(
          outcome,
          Counter.builder(Metrics.name("control-plane", "audit_outbox"))
              .tag("outcome", outcome)
              .register(registry));
    }
  }

  /**
   * Issues the insert of {@code entries}' rows in this transaction (before its {@code COMMIT}); see
   * {@link #INSERT}. {@code stamp} is the time the send's statement stored its claims with (the
   * rows' age for {@link #sweep}).
   */
  public Future<Void> insert(
      SqlConnection conn, UUID wid, OffsetDateTime stamp, List<Entry> entries) {
    Tuple args = Tuple.tuple().addValue(wid).addValue(stamp);
    addInsertArgs(args, entries);
    return conn.preparedQuery(INSERT).execute(args).mapEmpty();
  }

  /**
   * Writes down {@code event} (prepared: {@link AuditEmitter#prepare}) of an action in workspace
   * {@code wid}, in the action's transaction on {@code conn} (the workspace setting made): it is
   * committed with the action or not at all. After the commit the caller appends it and calls
   * {@link #emitted}; if the instance dies first, a sweep appends it under the same id.
   */
  public Future<Void> writeDown(SqlConnection conn, UUID wid, AuditEvent event) {
    return conn.preparedQuery(
            "INSERT INTO audit_outbox (workspace_id, event_id, event, created_at)"
                + " VALUES ($1, $2, $3, $4)")
        .execute(
            Tuple.of(
                wid,
                event.getId(),
                Buffer.buffer(event.toByteArray()),
                OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC)))
        .mapEmpty();
  }

  /**
   * Adds the rows' arrays of {@link #INSERT} (its arguments after the workspace and stamp) to
   * {@code args}: the send ids, event ids, events and sending agents of {@code entries}.
   */
  public static void addInsertArgs(Tuple args, List<Entry> entries) {
    int n = entries.size();
    UUID[] messages = new UUID[n];
    String[] ids = new String[n];
    Buffer[] events = new Buffer[n];
    UUID[] agents = new UUID[n];
    for (int i = 0; i < n; i++) {
      Entry e = entries.get(i);
      messages[i] = e.messageId();
      ids[i] = e.event().getId();
      events[i] = Buffer.buffer(e.event().toByteArray());
      agents[i] = e.agent();
    }
    args.addValue(messages).addValue(ids).addValue(events).addValue(agents);
  }

  /** The event {@code eventId} of {@code wid} is in the audit stream: its row goes. */
  public void emitted(UUID wid, String eventId) {
    counted.get("appended").increment();
    synchronized (toDelete) {
      if (waiting >= MAX_TO_DELETE) {
        counted.get("dropped").increment();
        return;
      }
      waiting++;
      toDelete.computeIfAbsent(wid, k -> new ArrayList<>()).add(eventId);
    }
  }

  /** Deletes the rows of the events appended since the last call; one statement per workspace. */
  Future<Void> deleteAppended() {
    Map<UUID, List<String>> now;
    synchronized (toDelete) {
      if (toDelete.isEmpty()) {
        return Future.succeededFuture();
      }
      now = new HashMap<>(toDelete);
      toDelete.clear();
      waiting = 0;
    }
    List<Future<Integer>> each = new ArrayList<>();
    now.forEach((ws, ids) -> each.add(delete(ws, ids)));
    return Future.join(each).mapEmpty();
  }

  private Future<Integer> delete(UUID ws, List<String> ids) {
    return db.inWorkspace(
        ws,
        conn ->
            conn.preparedQuery("DELETE FROM audit_outbox WHERE event_id = ANY($1)")
                .execute(Tuple.of(ids.toArray(new String[0])))
                .map(r -> r.rowCount()));
  }

  /**
   * Appends every event written down before {@link #SWEEP_AGE} ago (its instance did not), up to
   * {@value #SWEEP_ROWS} per workspace, and deletes the rows of those appended; answers how many.
   * An event that cannot be appended now stays for the next sweep.
   */
  public Future<Integer> sweep() {
    OffsetDateTime before =
        OffsetDateTime.ofInstant(clock.instant().minus(SWEEP_AGE), ZoneOffset.UTC);
    return db.withTransaction(
            conn ->
                conn.preparedQuery("SELECT workspace_id FROM audit_outbox_due_workspaces($1, $2)")
                    .execute(Tuple.of(before, SWEEP_WORKSPACES))
                    .map(
                        rows -> {
                          List<UUID> out = new ArrayList<>();
                          rows.forEach(r -> out.add(r.getUUID("workspace_id")));
                          return out;
                        }))
        .compose(wss -> Sweeps.inTurn(wss, ws -> sweep(ws, before)));
  }

  private Future<Integer> sweep(UUID ws, OffsetDateTime before) {
    return db.inWorkspace(
            ws,
            conn ->
                conn.preparedQuery(
                        "SELECT event_id, event, machine_id FROM audit_outbox"
                            + " WHERE created_at < $1 ORDER BY created_at LIMIT $2")
                    .execute(Tuple.of(before, SWEEP_ROWS)))
        .compose(
            rows -> {
              List<Future<String>> appends = new ArrayList<>();
              for (Row r : rows) {
                appends.add(append(r));
              }
              return Future.join(appends)
                  .transform(
                      ar -> {
                        List<String> done = new ArrayList<>();
                        appends.stream()
                            .filter(Future::succeeded)
                            .forEach(f -> done.add(f.result()));
                        counted.get("swept").increment(done.size());
                        counted.get("sweep_failed").increment(appends.size() - done.size());
                        return done.isEmpty()
                            ? Future.succeededFuture(0)
                            : delete(ws, done).map(n -> done.size());
                      });
            });
  }

  /**
   * Appends one row's event (its actor the sending agent's machine, when the row names one);
   * answers the row's event id. A row whose event does not parse (written by no version of this
   * service) is answered too, so that it goes, and counted; its contents are not logged.
   */
  private Future<String> append(Row r) {
    String id = r.getString("event_id");
    AuditEvent.Builder event;
    try {
      event = AuditEvent.parseFrom(r.getBuffer("event").getBytes()).toBuilder();
    } catch (InvalidProtocolBufferException e) {
      counted.get("unreadable").increment();
      log.atError().addKeyValue("event_id", id).log("audit outbox row unreadable; deleted");
      return Future.succeededFuture(id);
    }
    UUID machine = r.getUUID("machine_id");
    if (machine != null) {
      event.setActor(AuditActor.machine(machine.toString()).toProto());
    }
    return audit.emitPrepared(event.build()).map(id);
  }

  /** Starts the periodic deletes and sweeps. */
  public void start() {
    deleteTimer =
        vertx.setPeriodic(
            DELETE_EVERY_MS,
            t ->
                deleteAppended()
                    .onFailure(e -> log.warn("audit outbox delete failed: {}", e.toString())));
    sweepTimer = vertx.setPeriodic(SWEEP_EVERY_MS, t -> sweepOnce());
  }

  /** A sweep, unless one still runs (an append may retry for a minute while Redis is away). */
  private void sweepOnce() {
    if (sweeping) {
      return;
    }
    sweeping = true;
    sweep()
        .onComplete(
            ar -> {
              sweeping = false;
              if (ar.failed()) {
                log.warn("audit outbox sweep failed: {}", ar.cause().toString());
              }
            });
  }

  /** Stops the timers and deletes the rows of what was appended (best effort). */
  public Future<Void> stop() {
    vertx.cancelTimer(sweepTimer);
    vertx.cancelTimer(deleteTimer);
    return deleteAppended().recover(e -> Future.succeededFuture());
  }
}
