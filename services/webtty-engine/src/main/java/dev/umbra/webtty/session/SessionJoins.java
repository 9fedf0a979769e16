package dev.umbra.webtty.session;

import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.auth.Role;
import dev.umbra.proto.webtty.WebTtyBusMessage;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.proto.webtty.WebTtyReasons;
import dev.umbra.webtty.metrics.EngineMetrics;
import dev.umbra.webtty.session.model.Decision;
import dev.umbra.webtty.session.model.Participant;
import java.time.Clock;
import java.util.HexFormat;

/**
 * JOIN and ATTACH at the session's home (docs/webtty.md "Viewers", "Engine failover", "An edge
 * instance's death"): the model decides; here the others hear who joined, the joiner gets JOINED,
 * the notice it needs, and what it missed since a takeover.
 *
 * <p>The notice after JOINED:
 *
 * <ul>
 *   <li>a participant back through another instance while the home still lists it (its edge died
 *       without the goodbye, {@link Decision.Rejoined}): {@code RESUMED {reason edge_failover,
 *       sequence}}, the last stdin frame the home took from it; its old connection is told it was
 *       replaced and the others see it leave;
 *   <li>after a takeover: {@code RESUMED {reason engine_failover, resume, sequence}}, the
 *       daemon-signed document the client verifies, and the last stdin frame this home took under
 *       the joiner's key (0: none). A client that accepted this very document already (its link to
 *       this home dropped and it came back) takes the byte-identical copy as the same home again
 *       and sends again the kept stdin frames above {@code sequence}; any other document of an
 *       epoch not newer is a replay it refuses;
 *   <li>no takeover, a failover re-join (JOIN or ATTACH with a {@code sequence}, which only a
 *       failing-over client sends) that found no stale entry (its goodbye came first): {@code
 *       RESUMED edge_failover} with that last stdin frame.
 * </ul>
 */
final class SessionJoins {
  private static final HexFormat HEX = HexFormat.of();

  private final SessionHome home;
  private final Fanout fanout;
  private final AuditEmitter audit;
  private final EngineMetrics metrics;
  private final Clock clock;

  SessionJoins(
      SessionHome home, Fanout fanout, AuditEmitter audit, EngineMetrics metrics, Clock clock) {
    this.home = home;
    this.fanout = fanout;
    this.audit = audit;
    this.metrics = metrics;
    this.clock = clock;
  }

  void join(Session s, WebTtyBusMessage who, Role role, WebTtyFrame f) {
    boolean attach = f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_ATTACH;
    var candidate =
        new Participant(
            who.getParticipantId(),
            who.getSubject(),
            role,
            who.getTokenId(),
            who.getOrigin(),
            HEX.formatHex(f.getKeyId().toByteArray()),
            f.getPublicKey());
    // (revocation was checked by the edge, which holds the whole token, just before this JOIN)
    long stamp = f.getSequence() > 0 ? f.getTimeUnixMs() : 0; // only a failover re-join's
    long now = clock.millis();
    Decision d =
        s.abandonedAttempt(s.model.sameIdentity(candidate), stamp, now)
            ? new Decision.Refused(WebTtyReason.WEBTTY_REASON_ALREADY_IN_SESSION)
            : s.model.join(candidate, attach, f.getSequence() > 0);
    switch (d) {
      case Decision.Rejoined r -> {
        s.joined(r.participant(), stamp, r.replaced(), now);
        rejoined(s, r, f.getSequence());
      }
      case Decision.Joined j -> {
        s.joined(j.participant(), stamp, null, now);
        joined(s, j, attach, f.getSequence());
      }
      case Decision.Refused r -> {
        String why = WebTtyReasons.wire(r.reason());
        metrics.rejected("client", why);
        home.sessionEvent(AuditAction.TERMINAL_REFUSED, s, who.getSubject()).denied(why).emit();
        // REFUSED, not ERROR: the connection stays usable (the edge unbinds it), docs/webtty.md
        fanout.replyTo(who, Frames.refused(s.id(), r.reason()));
      }
      default -> throw new IllegalStateException("join decided " + d);
    }
  }

  private void joined(Session s, Decision.Joined d, boolean attach, long seen) {
    Participant joined = d.participant();
    home.cancelTimer(s);
    String key = joined.keyIdHex();
    if (seen <= 0) {
      s.forgetStdin(key); // a new client with this key: its own counters start from 1
    }
    long lastStdin = s.lastStdinOf(key);
    WebTtyFrame notice =
        SessionResume.notice(s.model) // after a takeover: the signed document, every time
            .map(n -> n.toBuilder().setSequence(lastStdin).build())
            .orElse(seen > 0 ? edgeNotice(s.id(), lastStdin) : null); // a failover re-join
    announce(s, joined, notice, seen);
    if (d.control()) {
      home.tellServerControl(s, joined);
    }
    home.sessionEvent(AuditAction.TERMINAL_JOINED, s, joined.subject())
        .meta("role", attach ? "owner" : "viewer")
        .success()
        .emit();
  }

  /** {@code r}: the same participant through another instance while the home lists it. */
  private void rejoined(Session s, Decision.Rejoined r, long seen) {
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
    announce(s, joined, edgeNotice(s.id(), r.lastStdinSequence()), seen);
    home.sessionEvent(AuditAction.TERMINAL_JOINED, s, joined.subject())
        .meta("role", s.model.isOpener(joined) ? "owner" : "viewer")
        .meta("rejoined", "edge_failover")
        .success()
        .emit();
  }

  /**
   * The others hear {@code joined} joined; it gets JOINED, then {@code notice} (if any), then what
   * this home sent since a takeover after {@code seen}.
   */
  private void announce(Session s, Participant joined, WebTtyFrame notice, long seen) {
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
    if (notice != null) {
      fanout.sendTo(joined, notice);
    }
    SessionResume.replay(s, seen).forEach(r -> fanout.sendTo(joined, r));
  }

  /**
   * The notice of a home that lived: {@code sequence} is the last stdin frame taken from the key.
   */
  static WebTtyFrame edgeNotice(String sessionId, long lastStdin) {
    return WebTtyFrame.newBuilder()
        .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED)
        .setSessionId(sessionId)
        .setReason(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_EDGE_FAILOVER))
        .setSequence(lastStdin)
        .build();
  }
}
