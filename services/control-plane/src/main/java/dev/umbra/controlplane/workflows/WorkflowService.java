package dev.umbra.controlplane.workflows;

import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.ttypolicy.SignerDevice;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.workflow.WorkflowDefinition;
import dev.umbra.crypto.workflow.WorkflowDocument;
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
 * Workflows (docs/agents.md, "Workflows"): viewers read them, members write one only signed by one
 * of their own trusted devices under the current workspace key, each version higher than the last.
 * The signature check here is a second line: the daemon verifies the definition against its pinned
 * trust before running it and never relies on this service.
 */
final class WorkflowService {
  /** A definition as a member sends it: parsed text, the version and signature it was signed as. */
  record Put(
      String yaml, WorkflowDefinition definition, long version, byte[] signature, UUID signer) {}

  private final Tenancy tenancy;
  private final WorkflowStore store;
  private final AuditTrail audit;
  private final Clock clock;

  WorkflowService(Tenancy tenancy, WorkflowStore store, AuditTrail audit, Clock clock) {
    this.tenancy = tenancy;
    this.store = store;
    this.audit = audit;
    this.clock = clock;
  }

  Future<List<Workflow>> list(Caller caller, UUID wid) {
    return tenancy.asMember(caller.principal(), wid, Role.VIEWER, (conn, m) -> store.list(conn));
  }

  /** The workflow, or its tombstone when deleted; 404 when there never was one. */
  Future<Workflow> get(Caller caller, UUID wid, String name) {
    return tenancy.asMember(
        caller.principal(), wid, Role.VIEWER, (conn, m) -> found(store.get(conn, name, false)));
  }

  /** What a machine fetches once its signed request was checked: 404 when none or deleted. */
  Future<Workflow> forMachine(SqlConnection conn, String name) {
    return found(store.get(conn, name, false).map(w -> w == null || w.deleted() ? null : w));
  }

  private static Future<Workflow> found(Future<Workflow> w) {
    return w.compose(
        x ->
            x == null
                ? Future.failedFuture(Refusal.notFound("workflow"))
                : Future.succeededFuture(x));
  }

  Future<Workflow> put(Caller caller, UUID wid, Put put) {
    OffsetDateTime now = OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
    String name = put.definition().name();
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.MEMBER,
        audit.memberWill(caller, wid, AuditAction.WORKFLOW_PUT, "workflow:" + name),
        (conn, m) ->
            SignerDevice.workspaceKey(conn)
                .compose(key -> checkSigner(conn, wid, put, key, m.accountId()))
                .compose(v -> store.get(conn, name, true))
                .compose(
                    old ->
                        old != null && old.version() >= put.version()
                            ? Future.failedFuture(stale(old.version()))
                            : store.put(
                                conn,
                                wid,
                                new Workflow(
                                    name,
                                    put.version(),
                                    put.yaml(),
                                    put.signature(),
                                    put.signer(),
                                    m.accountId(),
                                    now)))
                .compose(
                    stored ->
                        stored == null
                            ? Future.failedFuture(stale(put.version()))
                            : WorkflowProposals.clear(conn, name).map(v -> stored)));
  }

  Future<Void> delete(Caller caller, UUID wid, String name) {
    OffsetDateTime now = OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
    return tenancy
        .asMember(
            caller.principal(),
            wid,
            Role.MEMBER,
            audit.memberWill(caller, wid, AuditAction.WORKFLOW_DELETED, "workflow:" + name),
            (conn, m) -> found(store.delete(conn, name, m.accountId(), now)))
        .mapEmpty();
  }

  private static Refusal stale(long stored) {
    return Refusal.conflict(
        Refusal.Conflict.Reason.STALE_VERSION,
        "version must be higher than the stored version " + stored,
        "version");
  }

  /**
   * The workspace must have a keyset (workflows exist only under Workspace Protection), the signer
   * must be a trusted device of the caller under its current key, and its key must have signed
   * exactly this definition as this version of this workspace.
   */
  private static Future<Void> checkSigner(
      SqlConnection conn, UUID wid, Put put, Ed25519PublicKey workspaceKey, UUID caller) {
    if (workspaceKey == null) {
      return Future.failedFuture(
          Refusal.conflict(
              Refusal.Conflict.Reason.NO_KEYSET,
              "workflows need Workspace Protection: the workspace has no keyset yet (`umbra device trust`)"));
    }
    return SignerDevice.find(conn, put.signer())
        .compose(
            d -> {
              if (d == null || !d.trustedFor(caller, workspaceKey)) {
                return Future.failedFuture(
                    Refusal.notAllowed(
                        Refusal.NotAllowed.Reason.SIGNER_NOT_TRUSTED,
                        "signer_device_id is not a trusted device of yours",
                        "signer_device_id"));
              }
              if (!WorkflowDocument.verifies(
                  wid,
                  put.version(),
                  put.signer(),
                  put.definition(),
                  put.signature(),
                  d.signingKey())) {
                return Future.failedFuture(
                    Refusal.invalid(
                        "signature",
                        "the signature does not verify for this definition, workspace and version"));
              }
              return Future.succeededFuture();
            });
  }
}
