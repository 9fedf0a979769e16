package dev.umbra.webtty.session;

import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.proto.webtty.WebTtyReasons;
import dev.umbra.webtty.session.model.Decision;
import dev.umbra.webtty.session.model.Participant;

/**
 * A participant back through another instance while the home still lists it (docs/webtty.md "An
 * edge instance's death"): the instance its connection went through died without the goodbye, or
 * the goodbye has not arrived yet. The model gave the newcomer the listed entry's place ({@link
 * Decision.Rejoined}); here the old connection is told it was replaced, the others see the old
 * participant leave and the new one join, and the newcomer gets JOINED with its role, then {@code
 * RESUMED {reason edge_failover, sequence}}: the last stdin frame the home took from it, so the
 * client sends again only what the dead edge swallowed. Control stays with the same key: no control
 * change, the daemon keeps its input key.
 */
final class EdgeRejoin {
  private EdgeRejoin() {}

  /** Carries out {@code r}; {@code seen} is the last engine sequence the newcomer saw. */
  static void carryOut(
      Session s, Decision.Rejoined r, long seen, Fanout fanout, AuditEmitter audit) {
    Participant old = r.replaced();
    Participant joined = r.participant();
    fanout.sendTo(old, Frames.error(s.id(), WebTtyReason.WEBTTY_REASON_REPLACED));
    fanout.sendToAllBut(
        s,
        joined.id(),
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_PARTICIPANT_LEFT)
            .setSessionId(s.id())
            .setParticipantId(old.id())
            .setReason(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_REPLACED))
            .build());
    fanout.sendToAllBut(
        s,
        joined.id(),
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_PARTICIPANT_JOINED)
            .setSessionId(s.id())
            .setParticipantId(joined.id())
            .setRole(s.model.roleOf(joined))
            .build());
    fanout.sendTo(joined, Frames.joined(s.model, joined));
    fanout.sendTo(joined, notice(s.id(), r.lastStdinSequence()));
    SessionResume.replay(s, seen).forEach(f -> fanout.sendTo(joined, f));
    audit
        .event(AuditAction.TERMINAL_JOINED)
        .workspace(s.model.workspaceId())
        .actor(AuditActor.member(joined.subject()))
        .target("session", s.id())
        .meta("role", s.model.isOpener(joined) ? "owner" : "viewer")
        .meta("rejoined", "edge_failover")
        .success()
        .emit();
  }

  /** The notice after JOINED: {@code sequence} is the last stdin frame taken from this key. */
  static WebTtyFrame notice(String sessionId, long lastStdin) {
    return WebTtyFrame.newBuilder()
        .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED)
        .setSessionId(sessionId)
        .setReason(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_EDGE_FAILOVER))
        .setSequence(lastStdin)
        .build();
  }
}
