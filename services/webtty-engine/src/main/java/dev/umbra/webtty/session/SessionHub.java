package dev.umbra.webtty.session;

import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.id.Ulid;
import dev.umbra.kit.revocation.RevocationList;
import dev.umbra.kit.revocation.Revoked;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.webtty.metrics.EngineMetrics;
import dev.umbra.webtty.recording.RecordingWriter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * The engine's session wiring (docs/webtty.md, "Engine internals"), three layers confined to the
 * verticle's event loop:
 *
 * <ul>
 *   <li>{@link EdgeRouter}: client and server connections; checks each frame's envelope, sends it
 *       to the session's home (directly when local, else over the bus) and delivers what homes send
 *       back; backpressure.
 *   <li>{@link SessionHome}: the instance holding the server's connection is the single authority
 *       of each of its sessions; it applies the session model and fans out, records and audits.
 *   <li>{@link dev.umbra.webtty.session.model.SessionModel}: a session's rules (lifecycle,
 *       participants, controller, sequence, grants), pure and unit-tested.
 * </ul>
 *
 * Bus channels: {@code umbra.webtty.srv.<workspace>.<server>} (OPEN towards the server's home),
 * {@code umbra.webtty.sess.<session>} (participants' frames towards the home), {@code
 * umbra.webtty.inst.<instance>} (deliveries towards an instance's participants), {@code
 * umbra.webtty.takeovers} (a session's new home after an engine failover, to every edge), and the
 * service's revocations (the kit's {@code RevocationList}).
 */
public final class SessionHub {

  /**
   * Bounds of {@code UMBRA_WEBTTY_SERVER_GRACE_SECONDS}: shorter ends sessions on a network blip,
   * longer holds shells whose daemon is gone.
   */
  public static final int SERVER_GRACE_MIN_SECONDS = 1;

  public static final int SERVER_GRACE_MAX_SECONDS = 600;

  /** Settings of the hub (from env, see WebTtyService). */
  public record Settings(
      Duration handshakeTimeout,
      Duration detachGrace,
      Duration revocationMemory,
      Duration serverGrace,
      String internalCredential) {
    @Override
    public String toString() {
      return "Settings[redacted]"; // the credential never reaches a log
    }
  }

  private final Vertx vertx;
  private final Bus bus;
  private final String instanceId;
  private final EdgeRouter edge;
  private final SessionHome home;
  private RevocationList revocations;
  private long pressureTimer = -1;

  public SessionHub(
      Vertx vertx,
      Bus bus,
      Clock clock,
      EngineMetrics metrics,
      AuditEmitter audit,
      RecordingWriter writer,
      Settings settings) {
    this.vertx = vertx;
    this.bus = bus;
    Ulid ulid = new Ulid(clock, new SecureRandom());
    this.instanceId = ulid.next();
    this.edge = new EdgeRouter(bus, metrics, audit, writer, ulid, instanceId, this::isRevoked);
    this.home =
        new SessionHome(
            vertx, bus, clock, metrics, audit, writer, settings, ulid, edge, instanceId);
    edge.homeAt(home);
  }

  public String instanceId() {
    return instanceId;
  }

  /**
   * Subscribes this instance's channels and listens to the service's revocations; call once at
   * start.
   */
  public Future<Void> start(RevocationList revocations) {
    pressureTimer = vertx.setPeriodic(50, t -> edge.maybeResume());
    this.revocations = revocations;
    revocations.onRevoked(this::onRevocation);
    return bus.subscribe(BusNames.webttyInstance(instanceId), edge::onDeliveries)
        .compose(
            v ->
                bus.subscribe(
                    BusNames.WEBTTY_TAKEOVERS,
                    m -> home.takeovers().open(m.body()).ifPresent(edge::onTakeover)))
        .mapEmpty();
  }

  public void stop() {
    if (pressureTimer >= 0) {
      vertx.cancelTimer(pressureTimer);
    }
    edge.closeAll();
  }

  /**
   * True when a revocation voids the token (the kit's list, which fails closed while it is not
   * current). Devices are matched through the token's {@code did} claim (a WebTTY key id is not a
   * device id).
   */
  public boolean isRevoked(SessionClaims c) {
    return revocations == null || revocations.isRevoked(c);
  }

  /**
   * Ends what the revoked party holds on this instance: its server connections, in sessions homed
   * here the participants of a revoked member or machine (the session ends when it is the opener),
   * and its client connections at this edge.
   */
  public void onRevocation(Revoked r) {
    edge.closeRevokedServers(r);
    // in sessions homed here the participants of a revoked member or machine leave (the session
    // ends when it is the opener); the home does not know when a participant's token was issued:
    // it counts as before the revocation (fail closed)
    for (Session s : home.sessionsOf(r.workspaceId())) {
      UUID ws = s.model.workspaceId();
      if (ServerLinkGrace.awaitsServer(s)
          && r.voidsSubject(ws, SubjectKind.MACHINE, s.model.serverId(), Instant.EPOCH)) {
        home.endSession(s, WebTtyReason.WEBTTY_REASON_REVOKED, null); // its server may not return
        continue;
      }
      for (var p :
          s.model.revokedBy(
              subject -> r.voidsSubject(ws, SubjectKind.MEMBER, subject, Instant.EPOCH))) {
        if (s.model.isOpener(p)) {
          home.endSession(s, WebTtyReason.WEBTTY_REASON_REVOKED, null);
        } else {
          home.removeParticipant(s, p, WebTtyReason.WEBTTY_REASON_REVOKED);
        }
      }
    }
    edge.closeRevokedClients(r);
  }

  /** A verified server (machine token) connected. */
  public void acceptServer(ServerWebSocket ws, SessionClaims claims) {
    edge.acceptServer(ws, claims);
  }

  /** A verified client (member token) connected. */
  public void acceptClient(ServerWebSocket ws, SessionClaims claims) {
    edge.acceptClient(ws, claims);
  }

  /** Live sessions homed on this instance (tests, health). */
  public int homedSessions() {
    return home.size();
  }

  /** Writes nothing: the ids of live sessions homed here for a workspace (tests). */
  public List<String> liveSessionIds(UUID ws) {
    return home.sessionsOf(ws).stream().map(Session::id).toList();
  }

  /**
   * Writes nothing: the subjects of the participants of a session homed here, else none (tests).
   */
  public List<String> participantSubjects(String sessionId) {
    Session s = home.session(sessionId);
    return s == null ? List.of() : s.model.participants().stream().map(p -> p.subject()).toList();
  }
}
