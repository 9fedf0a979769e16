package dev.umbra.controlplane.ttypolicy;

import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.Role;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

/**
 * The WebTTY server policy of each machine: members read it, admins set it — signed by one of their
 * own trusted devices while the workspace has a keyset, unsigned only without one — and each
 * version only higher than the stored one. A second line: the daemon verifies the signature and the
 * version again against the trust it pinned and never relies on this service.
 */
final class TtyPolicyService {
  private final Tenancy tenancy;
  private final TtyPolicyStore store;
  private final AuditTrail audit;
  private final Clock clock;

  TtyPolicyService(Tenancy tenancy, TtyPolicyStore store, AuditTrail audit, Clock clock) {
    this.tenancy = tenancy;
    this.store = store;
    this.audit = audit;
    this.clock = clock;
  }

  /** The machine's policy; null when none was set. */
  Future<TtyPolicy> get(Caller caller, UUID wid, UUID mid) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.VIEWER,
        (conn, m) -> machineExists(conn, mid).compose(v -> store.get(conn, mid, false)));
  }

  /**
   * What a machine fetches, once its signed request was checked (on that request's transaction);
   * null when none was set.
   */
  Future<TtyPolicy> forMachine(SqlConnection conn, UUID mid) {
    return store.get(conn, mid, false);
  }

  Future<TtyPolicy> set(Caller caller, UUID wid, UUID mid, TtyPolicyDocument doc) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.ADMIN,
        audit.memberWill(caller, wid, AuditAction.MACHINE_TTY_POLICY_SET, "machine:" + mid),
        (conn, m) ->
            machineExists(conn, mid)
                .compose(v -> SignerDevice.workspaceKey(conn))
                .compose(key -> checkSigner(conn, doc, key, m.accountId()))
                .compose(v -> store.get(conn, mid, true))
                .compose(
                    old ->
                        old != null && old.version() >= doc.version()
                            ? Future.failedFuture(
                                stale(
                                    "version must be higher than the stored version "
                                        + old.version()))
                            : store.put(
                                conn,
                                wid,
                                mid,
                                doc,
                                m.accountId(),
                                OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC)))
                .compose(
                    stored ->
                        stored == null
                            ? Future.failedFuture(stale("a newer policy was stored meanwhile"))
                            : Future.succeededFuture(stored)));
  }

  private static Refusal stale(String message) {
    return Refusal.conflict(Refusal.Conflict.Reason.STALE_VERSION, message, "policy");
  }

  private Future<Void> machineExists(SqlConnection conn, UUID mid) {
    return store
        .machineExists(conn, mid)
        .compose(
            e -> e ? Future.succeededFuture() : Future.failedFuture(Refusal.notFound("machine")));
  }

  /**
   * With a keyset the document must be signed by a trusted device of the caller whose credential
   * the current workspace key signed; without one it must be unsigned (there are no trusted devices
   * to sign it, and a signature nobody can check would only look like protection).
   */
  private Future<Void> checkSigner(
      SqlConnection conn, TtyPolicyDocument doc, Ed25519PublicKey workspaceKey, UUID caller) {
    if (workspaceKey == null) {
      return doc.signature() == null
          ? Future.succeededFuture()
          : Future.failedFuture(
              Refusal.invalid(
                  "policy",
                  "the workspace has no keyset: send the policy unsigned (no signature, no signer_device_id)"));
    }
    if (doc.signature() == null) {
      return Future.failedFuture(
          Refusal.invalid(
              "policy",
              "the workspace is protected: the policy must be signed by one of your trusted devices (umbra machines policy)"));
    }
    return SignerDevice.find(conn, doc.signer())
        .compose(
            d -> {
              if (!trustedDeviceOf(d, caller, workspaceKey)) {
                return Future.failedFuture(
                    Refusal.notAllowed(
                        Refusal.NotAllowed.Reason.SIGNER_NOT_TRUSTED,
                        "signer_device_id is not a trusted device of yours",
                        "policy"));
              }
              try {
                Ed25519PublicKey.fromBytes(d.ed25519PublicKey())
                    .verify(doc.payload().getBytes(StandardCharsets.UTF_8), doc.signature());
              } catch (CryptoException e) {
                return Future.failedFuture(Refusal.invalid("policy", "policy has a bad signature"));
              }
              return Future.succeededFuture();
            });
  }

  /** The device is the caller's, trusted under the current workspace key (null: no device). */
  static boolean trustedDeviceOf(SignerDevice d, UUID caller, Ed25519PublicKey workspaceKey) {
    return d != null && d.trustedFor(caller, workspaceKey);
  }
}
