package dev.umbra.audit.chain;

import dev.umbra.kit.db.Database;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Walks one workspace's chain in order and names the first broken link: a missing sequence number,
 * a {@code prev_hash} that is not the previous event's hash, a stored hash that does not match the
 * event's canonical encoding, or a chain head that does not match the last event. Reads in pages
 * (one transaction each, row-level security on) up to the head seen at the start.
 */
public final class ChainVerifier {
  public static final int PAGE = 2_000;
  private static final String HEAD =
      "SELECT last_seq, last_hash FROM chain_heads WHERE workspace_id = $1";
  private static final String PAGE_SQL =
      "SELECT "
          + StoredEvent.COLUMNS
          + " FROM events WHERE workspace_id = $1 AND seq > $2 AND seq <= $3 "
          + "ORDER BY seq LIMIT "
          + PAGE;

  private final Database db;

  public ChainVerifier(Database db) {
    this.db = db;
  }

  /** A broken link: the sequence number where the chain stops holding, and why. */
  public record Break(long seq, String eventId, String reason) {
    JsonObject toJson() {
      return new JsonObject().put("seq", seq).put("event_id", eventId).put("reason", reason);
    }
  }

  /** {@code firstBroken} is null when the chain holds. */
  public record Result(
      UUID workspace, long checked, long headSeq, byte[] headHash, Break firstBroken) {
    public boolean ok() {
      return firstBroken == null;
    }

    public JsonObject toJson() {
      JsonObject o =
          new JsonObject()
              .put("workspace_id", workspace.toString())
              .put("ok", ok())
              .put("checked", checked)
              .put(
                  "head",
                  new JsonObject().put("seq", headSeq).put("hash", StoredEvent.hex(headHash)));
      if (firstBroken != null) {
        o.put("first_broken", firstBroken.toJson());
      }
      return o;
    }
  }

  private static final class Walk {
    long expectedSeq = 1;
    byte[] prev = Chain.genesis();
    long checked;
    Break broken;
  }

  public Future<Result> verify(UUID workspace) {
    return db.inWorkspace(workspace, conn -> conn.preparedQuery(HEAD).execute(Tuple.of(workspace)))
        .compose(
            rows -> {
              if (rows.size() == 0) {
                return Future.succeededFuture(new Result(workspace, 0, 0, Chain.genesis(), null));
              }
              Row head = rows.iterator().next();
              long headSeq = head.getLong(0);
              byte[] headHash = head.getBuffer(1).getBytes();
              Walk walk = new Walk();
              return page(workspace, headSeq, walk)
                  .map(
                      v -> {
                        if (walk.broken == null && walk.expectedSeq <= headSeq) {
                          walk.broken = new Break(walk.expectedSeq, null, "missing");
                        } else if (walk.broken == null
                            && !MessageDigest.isEqual(walk.prev, headHash)) {
                          walk.broken = new Break(headSeq, null, "head_mismatch");
                        }
                        return new Result(workspace, walk.checked, headSeq, headHash, walk.broken);
                      });
            });
  }

  private Future<Void> page(UUID workspace, long headSeq, Walk walk) {
    long after = walk.expectedSeq - 1;
    return db.inWorkspace(
            workspace,
            conn -> conn.preparedQuery(PAGE_SQL).execute(Tuple.of(workspace, after, headSeq)))
        .compose(
            rows -> {
              List<StoredEvent> events = new ArrayList<>(rows.size());
              for (Row r : rows) {
                events.add(StoredEvent.fromRow(r));
              }
              for (StoredEvent e : events) {
                check(e, walk);
                if (walk.broken != null) {
                  return Future.succeededFuture();
                }
              }
              return events.size() == PAGE
                  ? page(workspace, headSeq, walk)
                  : Future.succeededFuture();
            });
  }

  private static void check(StoredEvent e, Walk walk) {
    if (e.seq() != walk.expectedSeq) {
      walk.broken = new Break(walk.expectedSeq, null, "missing");
      return;
    }
    if (!MessageDigest.isEqual(e.prevHash(), walk.prev)) {
      walk.broken = new Break(e.seq(), e.event().getId(), "prev_hash_mismatch");
      return;
    }
    byte[] recomputed;
    try {
      recomputed = Chain.link(walk.prev, e.seq(), e.event());
    } catch (RuntimeException malformed) {
      walk.broken = new Break(e.seq(), e.event().getId(), "malformed_row");
      return;
    }
    if (!MessageDigest.isEqual(recomputed, e.hash())) {
      walk.broken = new Break(e.seq(), e.event().getId(), "hash_mismatch");
      return;
    }
    walk.prev = e.hash();
    walk.expectedSeq++;
    walk.checked++;
  }
}
