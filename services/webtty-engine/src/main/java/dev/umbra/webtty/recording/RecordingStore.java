package dev.umbra.webtty.recording;

import com.google.protobuf.ByteString;
import dev.umbra.kit.db.Database;
import dev.umbra.proto.webtty.RecordedEvent;
import dev.umbra.proto.webtty.RecordedKind;
import dev.umbra.proto.webtty.Sealed;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.TerminalSize;
import dev.umbra.proto.webtty.TtyStream;
import io.netty.buffer.Unpooled;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * SQL of sessions and recordings. Every statement runs in {@link Database#inWorkspace}, so row
 * level security scopes it, and also names the workspace in its WHERE clause (double check). The
 * retention sweep is the one documented cross-workspace job: it asks the SECURITY DEFINER function
 * {@code expired_sessions} for expired (workspace, session) ids only, then deletes inside each
 * workspace's own transaction; no table is exempt from RLS (docs/tenancy.md).
 */
public final class RecordingStore {
  private final Database db;

  public RecordingStore(Database db) {
    this.db = db;
  }

  static OffsetDateTime at(long unixMs) {
    return OffsetDateTime.ofInstant(Instant.ofEpochMilli(unixMs), ZoneOffset.UTC);
  }

  /** A session summary as the list API shows it. */
  public record SessionRow(
      String sessionId,
      String serverId,
      String openedBy,
      boolean recording,
      Instant startedAt,
      Instant endedAt,
      String endReason,
      Integer exitStatus,
      long eventCount,
      long ciphertextBytes) {}

  public Future<Void> createSession(
      UUID ws,
      String sessionId,
      String serverId,
      String openedBy,
      boolean recording,
      long startedMs,
      byte[] header) {
    return db.inWorkspace(
        ws,
        conn ->
            conn.preparedQuery(
                    "INSERT INTO sessions (workspace_id, session_id, server_id, opened_by, recording, started_at, header) "
                        + "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING")
                .execute(
                    Tuple.of(
                        ws,
                        sessionId,
                        serverId,
                        openedBy,
                        recording,
                        at(startedMs),
                        Buffer.buffer(header)))
                .mapEmpty());
  }

  public Future<Void> endSession(
      UUID ws, String sessionId, long endedMs, String reason, Integer exitStatus) {
    return db.inWorkspace(
        ws,
        conn ->
            conn.preparedQuery(
                    "UPDATE sessions SET ended_at = $3, end_reason = $4, exit_status = $5 "
                        + "WHERE workspace_id = $1 AND session_id = $2 AND ended_at IS NULL")
                .execute(Tuple.of(ws, sessionId, at(endedMs), reason, exitStatus))
                .mapEmpty());
  }

  /** What a RESUME found: taken over, replayed (epoch not newer), or no such live session. */
  public enum ResumeStatus {
    RESUMED,
    REPLAYED,
    UNKNOWN
  }

  /**
   * A resumed session's stored facts (docs/webtty.md "Engine failover"): its opener, start, header
   * (hello, proof, grants, key context) and the highest event sequence stored.
   */
  public record Resumed(
      ResumeStatus status, String openedBy, long startedMs, byte[] header, long lastSequence) {}

  /**
   * Takes over live session {@code sessionId} of {@code serverId} for resume epoch {@code epoch}:
   * only when the session was not ended and its stored epoch is lower (then stored), so a replayed
   * resume document is refused. One statement: two instances racing for one epoch, one wins.
   */
  public Future<Resumed> resume(UUID ws, String sessionId, String serverId, long epoch) {
    return db.inWorkspace(
        ws,
        conn ->
            conn.preparedQuery(
                    "UPDATE sessions SET resume_epoch = $4 WHERE workspace_id = $1 AND session_id = $2 "
                        + "AND server_id = $3 AND ended_at IS NULL AND resume_epoch < $4 "
                        + "RETURNING opened_by, started_at, header, (SELECT coalesce(max(sequence), 0) "
                        + "FROM events e WHERE e.workspace_id = $1 AND e.session_id = $2) AS last_sequence")
                .execute(Tuple.of(ws, sessionId, serverId, epoch))
                .compose(
                    rows -> {
                      if (rows.size() > 0) {
                        Row r = rows.iterator().next();
                        return Future.succeededFuture(
                            new Resumed(
                                ResumeStatus.RESUMED,
                                r.getString("opened_by"),
                                r.getOffsetDateTime("started_at").toInstant().toEpochMilli(),
                                r.getBuffer("header").getBytes(),
                                r.getLong("last_sequence")));
                      }
                      return conn.preparedQuery(
                              "SELECT 1 FROM sessions WHERE workspace_id = $1 AND session_id = $2 "
                                  + "AND server_id = $3 AND ended_at IS NULL")
                          .execute(Tuple.of(ws, sessionId, serverId))
                          .map(
                              live ->
                                  new Resumed(
                                      live.size() > 0
                                          ? ResumeStatus.REPLAYED
                                          : ResumeStatus.UNKNOWN,
                                      null,
                                      0,
                                      null,
                                      0));
                    }));
  }

  /**
   * The stored resume epoch of live session {@code sessionId} (0 when never resumed); fails when no
   * such live session exists. A home that kept a session for its server compares it with its own to
   * learn whether another instance took the session over meanwhile.
   */
  public Future<Long> resumeEpoch(UUID ws, String sessionId) {
    return db.inWorkspace(
        ws,
        conn ->
            conn.preparedQuery(
                    "SELECT resume_epoch FROM sessions WHERE workspace_id = $1 AND session_id = $2 "
                        + "AND ended_at IS NULL")
                .execute(Tuple.of(ws, sessionId))
                .compose(
                    rows ->
                        rows.size() == 0
                            ? Future.failedFuture("no live session " + sessionId)
                            : Future.succeededFuture(rows.iterator().next().getLong(0))));
  }

  /**
   * The output-key recipients after a share (key ids, lowercase hex, sorted): the live list reads
   * them instead of the header's epoch-0 grants. Only ever grows (a share only adds).
   */
  public Future<Void> outputRecipients(
      UUID ws, String sessionId, java.util.Collection<String> keyIds) {
    String[] ids = new java.util.TreeSet<>(keyIds).toArray(String[]::new);
    return db.inWorkspace(
        ws,
        conn ->
            conn.preparedQuery(
                    "UPDATE sessions SET output_recipients = $3 WHERE workspace_id = $1 AND session_id = $2 AND ended_at IS NULL")
                .execute(Tuple.of(ws, sessionId, ids))
                .mapEmpty());
  }

  /**
   * A read-only view of {@code bytes} as a parameter (the driver copies it once, into its message).
   */
  private static Buffer view(ByteString bytes) {
    return BufferInternal.buffer(Unpooled.wrappedBuffer(bytes.asReadOnlyByteBuffer()));
  }

  /** Stores events of one workspace in one transaction (all or nothing). */
  public Future<Void> insertEvents(UUID ws, List<StoredEvent> events) {
    List<Tuple> rows = new ArrayList<>(events.size());
    Map<String, long[]> perSession = new TreeMap<>();
    for (StoredEvent se : events) {
      RecordedEvent e = se.event();
      Sealed s = e.getSealed();
      boolean data = e.getKind() == RecordedKind.RECORDED_KIND_DATA;
      boolean resize = e.getKind() == RecordedKind.RECORDED_KIND_RESIZE;
      boolean sealed = data || (resize && e.hasSealed());
      boolean inputKey = e.getKind() == RecordedKind.RECORDED_KIND_INPUT_KEY;
      boolean outputKey = e.getKind() == RecordedKind.RECORDED_KIND_OUTPUT_KEY;
      boolean gap = e.getKind() == RecordedKind.RECORDED_KIND_GAP;
      rows.add(
          Tuple.from(
              new Object[] {
                ws,
                se.sessionId(),
                (long) e.getSequence(),
                at(e.getTimeUnixMs()),
                (short) e.getKind().getNumber(),
                data ? (short) e.getStream().getNumber() : null,
                sealed ? Buffer.buffer(s.getPayloadKeyId().toByteArray()) : null,
                sealed ? Buffer.buffer(s.getNonce().toByteArray()) : null,
                sealed
                    ? view(s.getCiphertext())
                    : null, // up to 64 KiB: not copied before the driver encodes it
                sealed ? (int) s.getPlaintextLength() : null,
                resize ? (int) e.getSize().getCols() : null,
                resize ? (int) e.getSize().getRows() : null,
                e.getKind() == RecordedKind.RECORDED_KIND_EXIT ? e.getExitStatus() : null,
                sealed ? Buffer.buffer(s.getSenderKeyId().toByteArray()) : null,
                // u64 on the wire, bigint here: the same 64 bits (a counter never gets near 2^63
                // anyway)
                sealed ? s.getCounter() : null,
                // the signed document of a key change (kind 4: input key grant, kind 5: output-key
                // epoch)
                inputKey
                    ? Buffer.buffer(e.getInputKeyGrant().toByteArray())
                    : outputKey
                        ? Buffer.buffer(e.getOutputKeyEpoch().toByteArray())
                        : gap ? Buffer.buffer(e.getResume().toByteArray()) : null
              }));
      long[] acc = perSession.computeIfAbsent(se.sessionId(), k -> new long[2]);
      acc[0]++;
      acc[1] += data ? s.getCiphertext().size() : 0;
    }
    return db.inWorkspace(
        ws,
        conn ->
            conn.preparedQuery(
                    "INSERT INTO events (workspace_id, session_id, sequence, at, kind, stream, payload_key_id, nonce, "
                        + "ciphertext, plaintext_length, cols, rows, exit_status, sender_key_id, counter, signed) "
                        + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT DO NOTHING")
                .executeBatch(rows)
                .compose(
                    r -> {
                      Future<Void> all = Future.succeededFuture();
                      for (var entry : perSession.entrySet()) {
                        all =
                            all.compose(
                                v ->
                                    conn.preparedQuery(
                                            "UPDATE sessions SET event_count = event_count + $3, ciphertext_bytes = ciphertext_bytes + $4 "
                                                + "WHERE workspace_id = $1 AND session_id = $2")
                                        .execute(
                                            Tuple.of(
                                                ws,
                                                entry.getKey(),
                                                entry.getValue()[0],
                                                entry.getValue()[1]))
                                        .mapEmpty());
                      }
                      return all;
                    }));
  }

  public Future<List<SessionRow>> list(UUID ws, String openedBy, int limit) {
    String sql =
        "SELECT session_id, server_id, opened_by, recording, started_at, ended_at, end_reason, exit_status, "
            + "event_count, ciphertext_bytes FROM sessions WHERE workspace_id = $1"
            + (openedBy == null ? "" : " AND opened_by = $3")
            + " ORDER BY started_at DESC LIMIT $2";
    Tuple args = openedBy == null ? Tuple.of(ws, limit) : Tuple.of(ws, limit, openedBy);
    return db.inWorkspace(
        ws,
        conn ->
            conn.preparedQuery(sql)
                .execute(args)
                .map(
                    rows -> {
                      List<SessionRow> out = new ArrayList<>();
                      for (Row r : rows) {
                        out.add(row(r));
                      }
                      return out;
                    }));
  }

  private static SessionRow row(Row r) {
    OffsetDateTime ended = r.getOffsetDateTime("ended_at");
    return new SessionRow(
        r.getString("session_id"),
        r.getString("server_id"),
        r.getString("opened_by"),
        r.getBoolean("recording"),
        r.getOffsetDateTime("started_at").toInstant(),
        ended == null ? null : ended.toInstant(),
        r.getString("end_reason"),
        r.getInteger("exit_status"),
        r.getLong("event_count"),
        r.getLong("ciphertext_bytes"));
  }

  /**
   * The workspace's live sessions (not ended), newest first, with their stored headers (key context
   * and grants); under the workspace's RLS like every query here.
   */
  public Future<List<SessionRecord>> live(UUID ws, int limit) {
    return db.inWorkspace(
        ws,
        conn ->
            conn.preparedQuery(
                    "SELECT session_id, server_id, opened_by, recording, started_at, ended_at, end_reason, exit_status, "
                        + "event_count, ciphertext_bytes, header, output_recipients FROM sessions WHERE workspace_id = $1 "
                        + "AND ended_at IS NULL ORDER BY started_at DESC LIMIT $2")
                .execute(Tuple.of(ws, limit))
                .map(
                    rows -> {
                      List<SessionRecord> out = new ArrayList<>();
                      for (Row r : rows) {
                        String[] shared = r.getArrayOfStrings("output_recipients");
                        out.add(
                            new SessionRecord(
                                row(r),
                                r.getBuffer("header").getBytes(),
                                shared == null ? null : List.of(shared)));
                      }
                      return out;
                    }));
  }

  /**
   * The session's summary and stored header, or null when the workspace has no such session; {@code
   * outputRecipients} the recipients' key ids after the latest share (null before any).
   */
  public record SessionRecord(SessionRow row, byte[] header, List<String> outputRecipients) {
    public SessionRecord(SessionRow row, byte[] header) {
      this(row, header, null);
    }
  }

  public Future<SessionRecord> session(UUID ws, String sessionId) {
    return db.inWorkspace(
        ws,
        conn ->
            conn.preparedQuery(
                    "SELECT session_id, server_id, opened_by, recording, started_at, ended_at, end_reason, exit_status, "
                        + "event_count, ciphertext_bytes, header FROM sessions WHERE workspace_id = $1 AND session_id = $2")
                .execute(Tuple.of(ws, sessionId))
                .map(
                    rows -> {
                      if (rows.size() == 0) {
                        return null;
                      }
                      Row r = rows.iterator().next();
                      return new SessionRecord(row(r), r.getBuffer("header").getBytes());
                    }));
  }

  /** Up to {@code limit} events with sequence > {@code after}, in order. */
  public Future<List<RecordedEvent>> events(UUID ws, String sessionId, long after, int limit) {
    return db.inWorkspace(
        ws,
        conn ->
            conn.preparedQuery(
                    "SELECT sequence, at, kind, stream, payload_key_id, nonce, ciphertext, plaintext_length, cols, rows, exit_status, "
                        + "sender_key_id, counter, signed "
                        + "FROM events WHERE workspace_id = $1 AND session_id = $2 AND sequence > $3 ORDER BY sequence LIMIT $4")
                .execute(Tuple.of(ws, sessionId, after, limit))
                .map(
                    rows -> {
                      List<RecordedEvent> out = new ArrayList<>();
                      for (Row r : rows) {
                        RecordedKind kind = RecordedKind.forNumber(r.getShort("kind"));
                        RecordedEvent.Builder e =
                            RecordedEvent.newBuilder()
                                .setSequence(r.getLong("sequence"))
                                .setTimeUnixMs(r.getOffsetDateTime("at").toInstant().toEpochMilli())
                                .setKind(
                                    kind == null ? RecordedKind.RECORDED_KIND_UNSPECIFIED : kind);
                        if (kind == RecordedKind.RECORDED_KIND_DATA) {
                          TtyStream st = TtyStream.forNumber(r.getShort("stream"));
                          e.setStream(st == null ? TtyStream.TTY_STREAM_UNSPECIFIED : st)
                              .setSealed(sealed(r));
                        } else if (kind == RecordedKind.RECORDED_KIND_RESIZE) {
                          e.setSize(
                              TerminalSize.newBuilder()
                                  .setCols(r.getInteger("cols"))
                                  .setRows(r.getInteger("rows")));
                          if (r.getBuffer("ciphertext") != null) {
                            e.setSealed(sealed(r));
                          }
                        } else if (kind == RecordedKind.RECORDED_KIND_EXIT) {
                          e.setExitStatus(r.getInteger("exit_status"));
                        } else if ((kind == RecordedKind.RECORDED_KIND_INPUT_KEY
                                || kind == RecordedKind.RECORDED_KIND_OUTPUT_KEY
                                || kind == RecordedKind.RECORDED_KIND_GAP)
                            && r.getBuffer("signed") != null) {
                          try {
                            SignedMessage signed =
                                SignedMessage.parseFrom(r.getBuffer("signed").getBytes());
                            if (kind == RecordedKind.RECORDED_KIND_INPUT_KEY) {
                              e.setInputKeyGrant(signed);
                            } else if (kind == RecordedKind.RECORDED_KIND_GAP) {
                              e.setResume(signed);
                            } else {
                              e.setOutputKeyEpoch(signed);
                            }
                          } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
                            // stored by this engine from a frame it checked; an unreadable row
                            // replays empty (the export refuses it)
                          }
                        }
                        out.add(e.build());
                      }
                      return out;
                    }));
  }

  private static Sealed sealed(Row r) {
    Sealed.Builder b =
        Sealed.newBuilder()
            .setPayloadSuite("aes-256-gcm")
            .setPayloadKeyId(ByteString.copyFrom(r.getBuffer("payload_key_id").getBytes()))
            .setNonce(ByteString.copyFrom(r.getBuffer("nonce").getBytes()))
            .setCiphertext(ByteString.copyFrom(r.getBuffer("ciphertext").getBytes()))
            .setPlaintextLength(r.getInteger("plaintext_length"));
    if (r.getBuffer("sender_key_id") != null) {
      b.setSenderKeyId(ByteString.copyFrom(r.getBuffer("sender_key_id").getBytes()))
          .setCounter(r.getLong("counter"));
    }
    return b.build();
  }

  /**
   * Deletes recordings whose session ended (or, never ended, started) before {@code cutoff};
   * returns how many.
   */
  public Future<Integer> sweep(Instant cutoff, int batch) {
    return sweep(cutoff, batch, (ws, sid) -> {});
  }

  /**
   * As {@link #sweep(Instant, int)}, telling {@code deleted} each (workspace, session) once its
   * transaction committed.
   */
  public Future<Integer> sweep(
      Instant cutoff, int batch, java.util.function.BiConsumer<UUID, String> deleted) {
    return db.withTransaction(
            conn ->
                conn.preparedQuery("SELECT workspace_id, session_id FROM expired_sessions($1, $2)")
                    .execute(Tuple.of(OffsetDateTime.ofInstant(cutoff, ZoneOffset.UTC), batch))
                    .map(
                        rows -> {
                          Map<UUID, List<String>> byWs = new TreeMap<>();
                          for (Row r : rows) {
                            byWs.computeIfAbsent(r.getUUID("workspace_id"), k -> new ArrayList<>())
                                .add(r.getString("session_id"));
                          }
                          return byWs;
                        }))
        .compose(
            byWs -> {
              Future<Integer> all = Future.succeededFuture(0);
              for (var entry : byWs.entrySet()) {
                UUID ws = entry.getKey();
                String[] ids = entry.getValue().toArray(String[]::new);
                all =
                    all.compose(
                        n ->
                            db.inWorkspace(
                                    ws,
                                    conn ->
                                        conn.preparedQuery(
                                                "DELETE FROM sessions WHERE workspace_id = $1 AND session_id = ANY($2) RETURNING session_id")
                                            .execute(
                                                Tuple.tuple().addUUID(ws).addArrayOfString(ids)))
                                .map(
                                    rows -> {
                                      for (Row r : rows) {
                                        deleted.accept(ws, r.getString("session_id"));
                                      }
                                      return n + rows.rowCount();
                                    }));
              }
              return all;
            });
  }
}
