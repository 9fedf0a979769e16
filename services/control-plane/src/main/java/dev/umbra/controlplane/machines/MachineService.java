package dev.umbra.controlplane.machines;

import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.errors.Refusal.Conflict.Reason;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.notify.RevocationNotices;
import dev.umbra.controlplane.sessions.SessionIssuer;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.FailureLimiter;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.kit.db.Database;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.Outcome;
import dev.umbra.proto.bus.RevokedKind;
import io.vertx.core.Future;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;

/**
 * Machines (daemon bindings, docs/control-plane.md): members list them, admins rename and revoke
 * them (the revocation published once committed), the pairing service binds them, and a machine
 * that signs with its binding key gets session tokens.
 */
final class MachineService {
  private final Database db;
  private final Tenancy tenancy;
  private final MachineStore store;
  private final FailureLimiter limiter;
  private final SessionIssuer issuer;
  private final AuditTrail audit;
  private final RevocationNotices revocations;
  private final Ids ids;
  private final Clock clock;

  MachineService(
      Database db,
      Tenancy tenancy,
      MachineStore store,
      FailureLimiter limiter,
      SessionIssuer issuer,
      AuditTrail audit,
      RevocationNotices revocations,
      Ids ids,
      Clock clock) {
    this.db = db;
    this.tenancy = tenancy;
    this.store = store;
    this.limiter = limiter;
    this.issuer = issuer;
    this.audit = audit;
    this.revocations = revocations;
    this.ids = ids;
    this.clock = clock;
  }

  private static Future<Machine> found(Machine m) {
    return m == null ? Future.failedFuture(Refusal.notFound("machine")) : Future.succeededFuture(m);
  }

  Future<List<Machine>> page(Caller caller, UUID wid, UUID after, int limit) {
    return tenancy.asMember(
        caller.principal(), wid, Role.VIEWER, (conn, m) -> store.page(conn, after, limit));
  }

  Future<Machine> get(Caller caller, UUID wid, UUID id) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.VIEWER,
        (conn, m) -> store.get(conn, id).compose(MachineService::found));
  }

  Future<Machine> rename(Caller caller, UUID wid, UUID id, String name) {
    return tenancy
        .asMember(
            caller.principal(),
            wid,
            Role.ADMIN,
            (conn, m) ->
                store
                    .rename(conn, id, name)
                    .compose(x -> store.get(conn, id))
                    .compose(MachineService::found))
        .onSuccess(
            x ->
                audit.memberDid(
                    caller.sourceIp(),
                    wid,
                    caller.accountId(),
                    AuditAction.MACHINE_UPDATED,
                    "machine:" + id));
  }

  Future<Void> revoke(Caller caller, UUID wid, UUID id) {
    AuditTrail.Recorded unpaired =
        audit.memberWill(caller, wid, AuditAction.MACHINE_UNPAIRED, "machine:" + id);
    return tenancy
        .asMember(
            caller.principal(),
            wid,
            Role.ADMIN,
            unpaired,
            (conn, m) ->
                store
                    .revoke(conn, id, now())
                    .compose(
                        done ->
                            done
                                ? Future.<Void>succeededFuture()
                                : Future.<Void>failedFuture(Refusal.notFound("machine"))))
        // published once committed, so no service refuses what a rolled-back revocation kept
        .onSuccess(
            v -> {
              revocations.revoked(RevokedKind.REVOKED_KIND_MACHINE, wid, id.toString(), null);
            });
  }

  /** Binds a machine for the pairing service (its internal credential already checked). */
  Future<Machine> bind(String sourceIp, UUID wid, Machine.Binding b) {
    UUID id = ids.next();
    return db.inWorkspace(
            wid,
            conn ->
                store
                    .workspaceExists(conn, wid)
                    .compose(
                        exists ->
                            exists
                                ? store.add(conn, wid, id, b, now())
                                : Future.failedFuture(Refusal.notFound("workspace")))
                    .compose(
                        m ->
                            m == null
                                ? Future.failedFuture(
                                    Refusal.conflict(
                                        Reason.ALREADY_BOUND,
                                        "this install is already bound to the workspace",
                                        "install_id"))
                                : Future.succeededFuture(m)))
        .onSuccess(
            m ->
                audit.emit(
                    sourceIp,
                    wid,
                    ActorKind.ACTOR_KIND_SERVICE,
                    "pairing",
                    AuditAction.MACHINE_PAIRED,
                    "machine:" + id,
                    Outcome.OUTCOME_SUCCESS));
  }

  /**
   * A machine's signed request for a session token (its timestamp already within the allowed skew).
   */
  record SessionRequest(
      UUID workspaceId,
      UUID machineId,
      String audience,
      long timestampMs,
      byte[] signature,
      byte[] message) {}

  /**
   * Issues a machine's session token when the machine exists, is not revoked, signed {@code
   * r.message()} with its binding key, and its timestamp is later than its last one. Every failure
   * is the same refusal, counts toward {@code ipBucket}'s limit and is audited.
   */
  Future<SessionIssuer.Issued> machineSession(String ipBucket, String sourceIp, SessionRequest r) {
    Refusal denied = Refusal.unauthenticated("machine not found, revoked, or bad signature");
    return limiter
        .<SessionIssuer.Issued>guard(
            "too many failed attempts",
            e -> e == denied,
            () ->
                db.inWorkspace(
                    r.workspaceId(),
                    conn ->
                        store
                            .get(conn, r.machineId())
                            .compose(
                                m -> {
                                  if (m == null || m.revokedAt() != null) {
                                    return Future.failedFuture(denied);
                                  }
                                  try {
                                    Ed25519PublicKey.fromBytes(m.ed25519PublicKey())
                                        .verify(r.message(), r.signature());
                                  } catch (CryptoException e) {
                                    return Future.failedFuture(denied);
                                  }
                                  return store
                                      .touchSession(conn, r.machineId(), now(), r.timestampMs())
                                      .compose(
                                          fresh ->
                                              fresh
                                                  ? Future.<Void>succeededFuture()
                                                  : Future.<Void>failedFuture(denied));
                                })
                            .map(
                                x ->
                                    issuer.issue(
                                        r.workspaceId(),
                                        r.machineId().toString(),
                                        SubjectKind.MACHINE,
                                        Role.MACHINE,
                                        r.audience(),
                                        SessionIssuer.MintedWith.MACHINE))),
            ipBucket)
        .onSuccess(
            t ->
                audit.emit(
                    sourceIp,
                    r.workspaceId(),
                    ActorKind.ACTOR_KIND_MACHINE,
                    r.machineId(),
                    AuditAction.SESSION_ISSUED,
                    "audience:" + r.audience(),
                    Outcome.OUTCOME_SUCCESS))
        .onFailure(
            e -> {
              if (e == denied) {
                audit.emit(
                    sourceIp,
                    r.workspaceId(),
                    ActorKind.ACTOR_KIND_MACHINE,
                    r.machineId(),
                    AuditAction.SESSION_REFUSED,
                    "machine:" + r.machineId(),
                    Outcome.OUTCOME_DENIED);
              }
            });
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }
}
