package dev.umbra.controlplane.agents;

import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.devices.MachineRequest;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.notify.RevocationNotices;
import dev.umbra.controlplane.sessions.SessionIssuer;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.crypto.sign.VerificationCodes;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.auth.FailureLimiter;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.proto.bus.RevokedKind;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;

/**
 * Agents' decisions (docs/messaging.md, "Agents"): enrolment from a machine with proof of
 * possession of the agent's key, approval by an admin with the verification code, revocation
 * (published on the bus so every instance closes the agent's sockets at once), agent session
 * tokens.
 */
public final class AgentService {
  /** The audience of an agent's session token: only the control plane's messaging routes. */
  public static final String AUDIENCE = "control-plane";

  private final Tenancy tenancy;
  private final AgentStore store;
  private final AuditEmitter audit;
  private final AuditTrail trail;
  private final RevocationNotices revocations;
  private final SessionIssuer issuer;
  private final FailureLimiter limiter;
  private final Ids ids;
  private final Clock clock;

  AgentService(
      Tenancy tenancy,
      AgentStore store,
      AuditEmitter audit,
      AuditTrail trail,
      RevocationNotices revocations,
      SessionIssuer issuer,
      FailureLimiter limiter,
      Ids ids,
      Clock clock) {
    this.tenancy = tenancy;
    this.store = store;
    this.audit = audit;
    this.trail = trail;
    this.revocations = revocations;
    this.issuer = issuer;
    this.limiter = limiter;
    this.ids = ids;
    this.clock = clock;
  }

  /** What an enrolment carries besides the machine's signed envelope. */
  record Enrolment(String name, byte[] ed25519, byte[] x25519, byte[] proof) {}

  /** The bytes both the machine and the agent's key sign to enrol. */
  public static byte[] enrolMessage(
      UUID workspaceId, UUID machineId, String name, byte[] ed25519, byte[] x25519, long tsMs) {
    return MachineRequests.agentEnrolment(workspaceId, machineId, name, ed25519, x25519, tsMs);
  }

  /** The bytes an agent signs to get a session token. */
  public static byte[] sessionMessage(UUID workspaceId, UUID agentId, long tsMs) {
    return MachineRequests.agentSession(workspaceId, agentId, tsMs);
  }

  Future<Agent> enrol(
      MachineRequest.Checker checker, RoutingContext ctx, MachineRequest mr, Enrolment e) {
    byte[] message =
        enrolMessage(
            mr.workspaceId(), mr.machineId(), e.name(), e.ed25519(), e.x25519(), mr.timestampMs());
    try {
      Ed25519PublicKey.fromBytes(e.ed25519()).verify(message, e.proof());
    } catch (CryptoException x) {
      return Future.failedFuture(
          Refusal.invalid("proof", "proof is not the agent key's signature over the enrolment"));
    }
    Agent fresh =
        new Agent(
            ids.next(),
            mr.workspaceId(),
            mr.machineId(),
            e.name(),
            e.ed25519(),
            e.x25519(),
            Agent.PENDING,
            now(),
            null,
            null);
    return mr.run(checker, ctx, message, conn -> store.insert(conn, fresh))
        .compose(
            a -> {
              if (a == null) {
                return Future.failedFuture(
                    Refusal.conflict(
                        Refusal.Conflict.Reason.AGENT_EXISTS,
                        "an agent with this key is already enrolled",
                        "ed25519_public_key"));
              }
              audit
                  .event(AuditAction.AGENT_ENROLLED)
                  .workspace(a.workspaceId())
                  .actor(AuditActor.machine(a.machineId().toString()))
                  .target("agent", a.id())
                  .request(ctx)
                  .success()
                  .emit();
              return Future.succeededFuture(a);
            });
  }

  Future<List<Agent>> page(Caller caller, UUID wid, UUID after, int fetch) {
    return tenancy.asMember(
        caller.principal(), wid, Role.VIEWER, (conn, m) -> store.page(conn, after, fetch));
  }

  Future<Agent> get(Caller caller, UUID wid, UUID id) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.VIEWER,
        (conn, m) -> store.find(conn, id).map(o -> o.orElseThrow(() -> notFound())));
  }

  Future<Agent> approve(Caller caller, UUID wid, UUID id, String code) {
    AuditTrail.Recorded approved = memberWill(caller, wid, AuditAction.AGENT_APPROVED, id);
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.ADMIN,
        approved,
        (conn, m) ->
            store
                .find(conn, id)
                .compose(
                    o -> {
                      Agent a = o.orElseThrow(AgentService::notFound);
                      if (!Agent.PENDING.equals(a.status())) {
                        throw Refusal.conflict(
                            Refusal.Conflict.Reason.NOT_PENDING, "the agent is not pending");
                      }
                      Object payload =
                          Agent.keysPayload(
                              wid, a.name(), a.ed25519PublicKey(), a.x25519PublicKey());
                      if (!VerificationCodes.matches(code, payload)) {
                        throw Refusal.invalid(
                            "verification_code",
                            "verification_code does not match the agent's keys");
                      }
                      return store.approve(conn, id, caller.accountId(), now());
                    })
                .map(
                    o ->
                        o.orElseThrow(
                            () ->
                                Refusal.conflict(
                                    Refusal.Conflict.Reason.NOT_PENDING,
                                    "the agent is not pending"))));
  }

  Future<Agent> revoke(Caller caller, UUID wid, UUID id) {
    AuditTrail.Recorded revoked = memberWill(caller, wid, AuditAction.AGENT_REVOKED, id);
    return tenancy
        .asMember(
            caller.principal(),
            wid,
            Role.ADMIN,
            revoked,
            (conn, m) ->
                store
                    .revoke(conn, id, now())
                    .compose(
                        o ->
                            o.isPresent()
                                ? Future.succeededFuture(o.get())
                                : store
                                    .find(conn, id)
                                    .map(
                                        f -> {
                                          throw f.isPresent()
                                              ? Refusal.conflict(
                                                  Refusal.Conflict.Reason.ALREADY_REVOKED,
                                                  "the agent is already revoked")
                                              : notFound();
                                        })))
        .onSuccess(
            a -> {
              revocations.revoked(
                  RevokedKind.REVOKED_KIND_AGENT, wid, a.id().toString(), caller.accountId());
            });
  }

  /**
   * A session token for an approved agent whose machine is not revoked, against its Ed25519
   * signature over {@link #sessionMessage}; failures count toward the caller's per-IP limit.
   */
  Future<SessionIssuer.Issued> session(
      String ipBucket, UUID wid, UUID agentId, long tsMs, byte[] signature) {
    Refusal denied =
        Refusal.unauthenticated("agent not found, not approved, revoked, or bad signature");
    return limiter.guard(
        "too many failed attempts",
        x -> x == denied,
        () ->
            tenancy
                .db()
                .inWorkspace(
                    wid,
                    conn ->
                        signedAndLater(
                            conn, agentId, sessionMessage(wid, agentId, tsMs), signature, tsMs))
                .compose(
                    ok ->
                        ok
                            ? Future.succeededFuture(
                                issuer.issue(
                                    wid,
                                    agentId.toString(),
                                    SubjectKind.AGENT,
                                    Role.VIEWER,
                                    AUDIENCE,
                                    SessionIssuer.MintedWith.MACHINE))
                            : Future.failedFuture(denied)),
        ipBucket);
  }

  /**
   * In one transaction: the agent is approved on a live machine, {@code signature} is its key's
   * over {@code message}, and {@code tsMs} is later than its last accepted session request —
   * timestamps increase strictly per agent, so a captured request cannot be replayed inside its
   * minute (as machine sessions).
   */
  private static Future<Boolean> signedAndLater(
      SqlConnection conn, UUID agentId, byte[] message, byte[] signature, long tsMs) {
    return conn.preparedQuery(
            "SELECT a.ed25519_public_key FROM agents a JOIN machines m"
                + " ON m.id = a.machine_id WHERE a.id = $1"
                + " AND a.status = 'approved' AND m.revoked_at IS NULL")
        .execute(Tuple.of(agentId))
        .compose(
            rows -> {
              if (rows.size() == 0) {
                return Future.succeededFuture(false);
              }
              try {
                Ed25519PublicKey.fromBytes(
                        rows.iterator().next().getBuffer("ed25519_public_key").getBytes())
                    .verify(message, signature);
              } catch (CryptoException x) {
                return Future.succeededFuture(false);
              }
              return conn.preparedQuery(
                      "UPDATE agents SET last_session_ms = $2 WHERE id = $1"
                          + " AND (last_session_ms IS NULL OR last_session_ms < $2)")
                  .execute(Tuple.of(agentId, tsMs))
                  .map(r -> r.rowCount() == 1);
            });
  }

  /** A member's action on agent {@code id}, audited through the outbox ({@link AuditTrail}). */
  private AuditTrail.Recorded memberWill(Caller caller, UUID wid, AuditAction action, UUID id) {
    return trail.memberWill(caller, wid, action, "agent:" + id);
  }

  private static Refusal.NotFound notFound() {
    return Refusal.notFound("agent");
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }
}
