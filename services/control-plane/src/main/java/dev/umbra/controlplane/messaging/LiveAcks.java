package dev.umbra.controlplane.messaging;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.db.Database;
import java.util.List;
import java.util.UUID;

/**
 * What a live socket's client sends, answered (docs/messaging.md, "WebSocket protocol"): a frame
 * {@link LiveFrames#parse} refuses closes the socket with {@link LiveSocket#CLOSE_MALFORMED} and
 * the refusal's reason; a {@code ping} is answered {@code pong}; an {@code ack} deletes its copies
 * as {@code POST /messages/acks} does, as the socket's party, and is answered {@code acked}.
 */
final class LiveAcks {
  private final Database db;
  private final AuditEmitter audit;

  LiveAcks(Database db, AuditEmitter audit) {
    this.db = db;
    this.audit = audit;
  }

  /** A text frame {@code s}'s client sent. */
  void onFrame(LiveSocket s, String text) {
    s.heard();
    LiveFrames.Frame f = LiveFrames.parse(text);
    if (f.refusal() != null) {
      s.close(LiveSocket.CLOSE_MALFORMED, f.refusal().reason);
      return;
    }
    switch (f.kind()) {
      case PING -> s.send(LiveFrames.pong());
      case ACK -> ack(s, f.ids());
    }
  }

  private void ack(LiveSocket s, List<UUID> ids) {
    // one ack in flight per socket: the next frame is read once this one is answered (else one
    // client sending acks faster than they end held every connection of the instance's pool)
    s.ws().pause();
    MessageStore.ack(db, s.party().workspaceId(), s.claims(), ids)
        .onSuccess(
            a -> {
              MessageRoutes.readAudit(audit, s.party(), ids.size(), a.deleted());
              s.send(LiveFrames.acked(a.deleted()));
            })
        .onFailure(
            e -> {
              // a refusal ends the socket for good; a database that failed only this once does not
              if (e instanceof Refusal) {
                s.close(LiveSocket.CLOSE_REVOKED, "not allowed");
              } else {
                s.close(LiveSocket.CLOSE_TRY_AGAIN, "acknowledgement failed, try again");
              }
            })
        .onComplete(ar -> s.ws().resume());
  }
}
