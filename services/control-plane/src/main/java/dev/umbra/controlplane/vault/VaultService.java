package dev.umbra.controlplane.vault;

import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.Role;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;

/**
 * The context vault's rules (docs/device-trust.md): members read and write entries and candidates
 * sealed under a keyset version the workspace has; admins grant machines access; a granted machine
 * reads an entry by name. Every write, read and withdrawal is audited.
 */
final class VaultService {
  private final Tenancy tenancy;
  private final VaultStore store;
  private final AuditTrail audit;
  private final Ids ids;
  private final Clock clock;

  VaultService(Tenancy tenancy, VaultStore store, AuditTrail audit, Ids ids, Clock clock) {
    this.tenancy = tenancy;
    this.store = store;
    this.audit = audit;
    this.ids = ids;
    this.clock = clock;
  }

  private static <T> Future<T> found(T value, String what) {
    return value == null
        ? Future.failedFuture(Refusal.notFound(what))
        : Future.succeededFuture(value);
  }

  private static Future<Void> deleted(boolean deleted, String what) {
    return deleted ? Future.succeededFuture() : Future.failedFuture(Refusal.notFound(what));
  }

  private Future<Void> requireVersion(SqlConnection conn, int version) {
    return store
        .hasKeyset(conn, version)
        .compose(
            has ->
                has
                    ? Future.succeededFuture()
                    : Future.failedFuture(
                        Refusal.invalid(
                            "keyset_version", "the workspace has no keyset of this version")));
  }

  /**
   * The event of a member's action on the vault, written down in the action's transaction and
   * appended after its commit (docs/audit.md, "Written down before appended"): who wrote, read or
   * withdrew what must be on record whatever happens to this instance after the commit.
   */
  private AuditTrail.Recorded memberWill(
      Caller caller, UUID wid, AuditAction action, String target) {
    return audit.memberWill(caller, wid, action, target);
  }

  Future<List<VaultEntry.Meta>> entries(Caller caller, UUID wid) {
    return tenancy.asMember(caller.principal(), wid, Role.MEMBER, (conn, m) -> store.entries(conn));
  }

  /** Writes the entry of {@code s.name()} (replacing one of that name). */
  Future<VaultEntry.Meta> put(Caller caller, UUID wid, Sealed s) {
    UUID id = ids.next();
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.MEMBER,
        (conn, m) ->
            requireVersion(conn, s.keysetVersion())
                .compose(x -> store.putEntry(conn, wid, id, s, caller.accountId(), now())),
        // the entry's id: a new one, or the one it replaced
        e -> memberWill(caller, wid, AuditAction.VAULT_ENTRY_WRITTEN, "vault:" + e.id()));
  }

  Future<VaultEntry> entry(Caller caller, UUID wid, UUID id) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.MEMBER,
        memberWill(caller, wid, AuditAction.VAULT_ENTRY_READ, "vault:" + id),
        (conn, m) -> store.entry(conn, id).compose(e -> found(e, "vault entry")));
  }

  Future<Void> delete(Caller caller, UUID wid, UUID id) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.MEMBER,
        memberWill(caller, wid, AuditAction.VAULT_ENTRY_DELETED, "vault:" + id),
        (conn, m) -> store.deleteEntry(conn, id).compose(d -> deleted(d, "vault entry")));
  }

  Future<List<VaultCandidate>> candidates(Caller caller, UUID wid) {
    return tenancy.asMember(
        caller.principal(), wid, Role.MEMBER, (conn, m) -> store.candidates(conn));
  }

  Future<VaultCandidate> propose(Caller caller, UUID wid, Sealed s) {
    UUID id = ids.next();
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.MEMBER,
        memberWill(caller, wid, AuditAction.VAULT_ENTRY_WRITTEN, "vault_candidate:" + id),
        (conn, m) ->
            requireVersion(conn, s.keysetVersion())
                .compose(x -> store.addCandidate(conn, wid, id, s, caller.accountId(), now())));
  }

  Future<VaultCandidate> candidate(Caller caller, UUID wid, UUID id) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.MEMBER,
        (conn, m) -> store.candidate(conn, id).compose(c -> found(c, "vault candidate")));
  }

  Future<Void> discard(Caller caller, UUID wid, UUID id) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.MEMBER,
        memberWill(caller, wid, AuditAction.VAULT_ENTRY_DELETED, "vault_candidate:" + id),
        (conn, m) -> store.deleteCandidate(conn, id).compose(d -> deleted(d, "vault candidate")));
  }

  Future<List<VaultGrant>> grants(Caller caller, UUID wid) {
    return tenancy.asMember(caller.principal(), wid, Role.ADMIN, (conn, m) -> store.grants(conn));
  }

  /**
   * Grants a machine that exists and is not revoked the vault keys sealed to it, under a keyset
   * version the workspace has (admin).
   */
  Future<Void> grant(
      Caller caller, UUID wid, UUID machineId, int keysetVersion, byte[] enc, byte[] ciphertext) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.ADMIN,
        memberWill(caller, wid, AuditAction.POLICY_UPDATED, "vault_grant:" + machineId),
        (conn, m) ->
            store
                .hasLiveMachine(conn, machineId)
                .compose(
                    live ->
                        live
                            ? requireVersion(conn, keysetVersion)
                            : Future.failedFuture(Refusal.notFound("machine")))
                .compose(
                    x ->
                        store.putGrant(
                            conn,
                            wid,
                            new VaultGrant(machineId, keysetVersion, now(), enc, ciphertext),
                            caller.accountId())));
  }

  Future<Void> ungrant(Caller caller, UUID wid, UUID machineId) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.ADMIN,
        memberWill(
            caller, wid, AuditAction.POLICY_UPDATED, "vault_grant:" + machineId + ":withdrawn"),
        (conn, m) -> store.deleteGrant(conn, machineId).compose(d -> deleted(d, "vault grant")));
  }

  /**
   * A granted machine reads entry {@code name} on {@code conn} (its signature already checked in
   * the workspace's transaction); audited as the machine's read, written down in that transaction:
   * the caller appends the event ({@link AuditTrail.Done#committed}) once it committed.
   */
  Future<AuditTrail.Done<VaultGrant.MachineRead>> machineRead(
      SqlConnection conn, String sourceIp, UUID wid, UUID machineId, String name) {
    return store
        .grant(conn, machineId)
        .compose(g -> found(g, "vault grant"))
        .compose(
            g ->
                store
                    .entryNamed(conn, name)
                    .compose(e -> found(e, "vault entry"))
                    .map(e -> new VaultGrant.MachineRead(g, e)))
        .compose(
            r ->
                audit
                    .machineWill(
                        sourceIp,
                        wid,
                        machineId,
                        AuditAction.VAULT_ENTRY_READ,
                        "vault:" + r.entry().id())
                    .writtenDown(conn, r));
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }
}
