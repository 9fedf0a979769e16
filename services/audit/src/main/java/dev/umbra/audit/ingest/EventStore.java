package dev.umbra.audit.ingest;

import dev.umbra.audit.chain.Chain;
import dev.umbra.audit.chain.StoredEvent;
import dev.umbra.kit.audit.AuditEventRules;
import dev.umbra.kit.db.Database;
import dev.umbra.proto.audit.AuditEvent;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Appends events to one workspace's chain in one transaction of three statements: lock the chain
 * head (which serializes appends per workspace across every audit instance); find the ids already
 * stored; then, after dropping those (so a re-delivered entry never advances the chain) and hashing
 * the rest in order, insert them with one multi-row statement that also moves the head and reports
 * how many rows it inserted (anything else rolls the batch back).
 */
public final class EventStore {
  /** Locks the chain head, creating it when new; waits while another transaction holds it. */
  private static final String LOCK_HEAD =
      "INSERT INTO chain_heads (workspace_id, last_seq, last_hash) VALUES ($1, 0, $2) "
          + "ON CONFLICT (workspace_id) DO UPDATE SET workspace_id = EXCLUDED.workspace_id "
          + "RETURNING last_seq, last_hash";

  /**
   * Which of the ids are stored already. A statement of its own, after the lock: in READ COMMITTED
   * each statement sees what was committed before it started, so this one sees the rows of a
   * transaction the lock waited for (in the lock's own statement it would not).
   */
  private static final String EXISTING =
      "SELECT id FROM events WHERE workspace_id = $1 AND id = ANY($2::text[])";

  /**
   * Inserts the hashed events and moves the head in one statement; returns how many were inserted.
   */
  private static final String INSERT_AND_MOVE =
      "WITH ins AS (INSERT INTO events ("
          + StoredEvent.COLUMNS
          + ") "
          + "SELECT $1, t.seq, t.id, t.ak, t.ai, t.ac, t.tg, t.oc, t.tm, t.ip, t.rq, t.sv, t.md::jsonb, t.ph, t.h "
          + "FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], "
          + "$8::text[], $9::bigint[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bytea[], "
          + "$15::bytea[]) AS t(seq, id, ak, ai, ac, tg, oc, tm, ip, rq, sv, md, ph, h) "
          + "ON CONFLICT DO NOTHING RETURNING 1) "
          + "UPDATE chain_heads SET last_seq = $16, last_hash = $17, updated_at = now() "
          + "WHERE workspace_id = $1 RETURNING (SELECT count(*) FROM ins)";

  private final Database db;

  public EventStore(Database db) {
    this.db = db;
  }

  /**
   * Stores the events of {@code workspace} (valid ones, in stream order, without repeated ids) and
   * returns those newly stored; events already present are skipped.
   */
  public Future<List<StoredEvent>> append(UUID workspace, List<AuditEvent> events) {
    if (events.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    return db.inWorkspace(workspace, conn -> append(conn, workspace, events));
  }

  private Future<List<StoredEvent>> append(
      SqlConnection conn, UUID workspace, List<AuditEvent> events) {
    String[] ids = events.stream().map(AuditEvent::getId).toArray(String[]::new);
    return conn.preparedQuery(LOCK_HEAD)
        .execute(Tuple.of(workspace, Buffer.buffer(Chain.genesis())))
        .compose(
            heads ->
                conn.preparedQuery(EXISTING)
                    .execute(Tuple.tuple().addValue(workspace).addValue(ids))
                    .map(
                        existing -> {
                          Set<String> seen = new HashSet<>();
                          existing.forEach(r -> seen.add(r.getString(0)));
                          Row h = heads.iterator().next();
                          return chain(
                              workspace, h.getLong(0), h.getBuffer(1).getBytes(), events, seen);
                        }))
        .compose(
            fresh -> {
              if (fresh.isEmpty()) {
                return Future.succeededFuture(fresh);
              }
              StoredEvent last = fresh.get(fresh.size() - 1);
              Tuple insert =
                  insertParams(workspace, fresh)
                      .addValue(last.seq())
                      .addValue(Buffer.buffer(last.hash()));
              return conn.preparedQuery(INSERT_AND_MOVE)
                  .execute(insert)
                  .compose(
                      rs ->
                          rs.iterator().next().getLong(0) == fresh.size()
                              ? Future.succeededFuture(fresh)
                              : Future.failedFuture(
                                  new IllegalStateException(
                                      "chain of "
                                          + workspace
                                          + " changed under its lock; batch retried")));
            });
  }

  private static List<StoredEvent> chain(
      UUID workspace, long lastSeq, byte[] lastHash, List<AuditEvent> events, Set<String> seen) {
    List<StoredEvent> out = new ArrayList<>(events.size());
    long seq = lastSeq;
    byte[] prev = lastHash;
    for (AuditEvent e : events) {
      if (!seen.add(e.getId())) {
        continue;
      }
      seq++;
      byte[] hash = Chain.link(prev, seq, e);
      out.add(new StoredEvent(workspace, seq, e, prev, hash));
      prev = hash;
    }
    return out;
  }

  private static Tuple insertParams(UUID workspace, List<StoredEvent> rows) {
    int n = rows.size();
    Long[] seq = new Long[n];
    String[] id = new String[n];
    String[] actorKind = new String[n];
    String[] actorId = new String[n];
    String[] action = new String[n];
    String[] target = new String[n];
    String[] outcome = new String[n];
    Long[] time = new Long[n];
    String[] ip = new String[n];
    String[] requestId = new String[n];
    String[] service = new String[n];
    String[] metadata = new String[n];
    Buffer[] prev = new Buffer[n];
    Buffer[] hash = new Buffer[n];
    for (int i = 0; i < n; i++) {
      StoredEvent s = rows.get(i);
      AuditEvent e = s.event();
      seq[i] = s.seq();
      id[i] = e.getId();
      actorKind[i] = AuditEventRules.actorKindWire(e.getActor().getKind()).orElseThrow();
      actorId[i] = e.getActor().getId();
      action[i] = e.getAction();
      target[i] = e.getTarget();
      outcome[i] = AuditEventRules.outcomeWire(e.getOutcome()).orElseThrow();
      time[i] = e.getTimeUnixMs();
      ip[i] = e.getSourceIp();
      requestId[i] = e.getRequestId();
      service[i] = e.getService();
      JsonObject m = new JsonObject();
      new TreeMap<>(e.getMetadataMap()).forEach(m::put);
      metadata[i] = m.encode();
      prev[i] = Buffer.buffer(s.prevHash());
      hash[i] = Buffer.buffer(s.hash());
    }
    return Tuple.tuple()
        .addValue(workspace)
        .addValue(seq)
        .addValue(id)
        .addValue(actorKind)
        .addValue(actorId)
        .addValue(action)
        .addValue(target)
        .addValue(outcome)
        .addValue(time)
        .addValue(ip)
        .addValue(requestId)
        .addValue(service)
        .addValue(metadata)
        .addValue(prev)
        .addValue(hash);
  }
}
