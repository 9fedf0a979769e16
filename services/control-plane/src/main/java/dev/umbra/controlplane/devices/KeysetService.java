package dev.umbra.controlplane.devices;

import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.errors.Refusal.Conflict.Reason;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.notify.RevocationNotices;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.Role;
import dev.umbra.proto.api.Device;
import dev.umbra.proto.bus.RevokedKind;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;

/**
 * The keyset chain of a workspace (docs/device-trust.md): its creation with the first trusted
 * device, rotations, and the trust material machines pin.
 */
final class KeysetService {
  private final Tenancy tenancy;
  private final KeysetStore keysets;
  private final DeviceStore devices;
  private final RecoveryKitStore kits;
  private final AuditTrail audit;
  private final RevocationNotices revocations;
  private final Clock clock;

  KeysetService(
      Tenancy tenancy,
      KeysetStore keysets,
      DeviceStore devices,
      RecoveryKitStore kits,
      AuditTrail audit,
      RevocationNotices revocations,
      Clock clock) {
    this.tenancy = tenancy;
    this.keysets = keysets;
    this.devices = devices;
    this.kits = kits;
    this.audit = audit;
    this.revocations = revocations;
    this.clock = clock;
  }

  Future<KeysetChain> chain(Caller caller, UUID wid) {
    return tenancy.asMember(caller.principal(), wid, Role.VIEWER, (conn, m) -> keysets.chain(conn));
  }

  /**
   * The first keyset (version 1, self-signed) with its first trusted device, the credential it
   * signs and the device's envelope (owner). {@code credential} and {@code envelope} are checked.
   */
  Future<Device> create(
      Caller caller,
      UUID wid,
      TrustDocuments.Keyset keyset,
      TrustDocuments.DeviceRequest device,
      SignedPayload credential,
      String envelope) {
    OffsetDateTime now = now();
    AuditTrail.Recorded approved =
        audit.memberWill(caller, wid, AuditAction.DEVICE_APPROVED, "device:" + device.id());
    return tenancy
        .asMember(
            caller.principal(),
            wid,
            Role.OWNER,
            approved,
            (conn, m) ->
                keysets
                    .addFirst(conn, wid, keyset.signed(), now)
                    .compose(
                        added ->
                            added
                                ? devices.add(
                                    conn,
                                    wid,
                                    caller.accountId(),
                                    device,
                                    "trusted",
                                    credential,
                                    1,
                                    now)
                                : Future.failedFuture(
                                    Refusal.conflict(
                                        Reason.KEYSET_EXISTS,
                                        "the workspace already has a keyset: ask a trusted device to approve this one with `umbra devices approve`")))
                    .compose(
                        added ->
                            added
                                ? keysets.putEnvelope(
                                    conn,
                                    wid,
                                    1,
                                    SealedEnvelope.Recipient.DEVICE,
                                    device.id(),
                                    envelope,
                                    now)
                                : Future.failedFuture(DeviceService.deviceExists()))
                    .compose(x -> DeviceService.existing(devices, conn, device.id())))
        .onSuccess(
            d -> {
              audit.memberDid(
                  caller.sourceIp(),
                  wid,
                  caller.accountId(),
                  AuditAction.KEYSET_ENVELOPE_ADDED,
                  "keyset:1");
            });
  }

  /**
   * Rotates to the next keyset (admin), under the workspace's keyset lock: the rules are {@link
   * Rotation}'s; once committed, credentials of older versions are void and the services hear so.
   */
  Future<KeysetChain> rotate(Caller caller, Rotation rotation) {
    UUID wid = rotation.workspaceId();
    int version = rotation.next().version();
    OffsetDateTime now = now();
    return tenancy
        .asMember(
            caller.principal(),
            wid,
            Role.ADMIN,
            audit.memberWill(caller, wid, AuditAction.KEYSET_ENVELOPE_ADDED, "keyset:" + version),
            (conn, m) ->
                keysets
                    .lockCurrent(conn, wid)
                    .compose(
                        current -> {
                          rotation.checkFollows(current);
                          return devices.trusted(conn);
                        })
                    .compose(
                        trusted -> {
                          List<Rotation.DeviceRenewal> renewals = rotation.renewDevices(trusted);
                          return keysets
                              .addNext(conn, wid, version, rotation.next().signed(), now)
                              .compose(
                                  x ->
                                      inOrder(
                                          renewals,
                                          d ->
                                              devices
                                                  .renewCredential(
                                                      conn, d.deviceId(), d.credential(), version)
                                                  .compose(
                                                      y ->
                                                          keysets.putEnvelope(
                                                              conn,
                                                              wid,
                                                              version,
                                                              SealedEnvelope.Recipient.DEVICE,
                                                              d.deviceId(),
                                                              d.envelope(),
                                                              now))));
                        })
                    .compose(x -> kits.liveIds(conn))
                    .compose(live -> renewKits(conn, wid, version, rotation.renewKits(live), now))
                    .compose(x -> keysets.chain(conn)))
        .onSuccess(
            chain -> {
              // once committed: the credentials of older versions are void, daemons refresh to
              // accept the new ones
              revocations.revoked(
                  RevokedKind.REVOKED_KIND_KEYSET_VERSION, wid, String.valueOf(version), null);
            });
  }

  private Future<Void> renewKits(
      SqlConnection conn, UUID wid, int version, Rotation.KitPlan plan, OffsetDateTime now) {
    return inOrder(plan.retired(), id -> kits.retire(conn, id))
        .compose(
            x ->
                inOrder(
                    plan.renewed(),
                    k ->
                        kits.renew(conn, k.kitId(), k.kit())
                            .compose(
                                y ->
                                    keysets.putEnvelope(
                                        conn,
                                        wid,
                                        version,
                                        SealedEnvelope.Recipient.RECOVERY_KIT,
                                        k.kitId(),
                                        k.envelope(),
                                        now))));
  }

  /** What a machine pins: the chain, every revocation, the trusted devices' current credentials. */
  record TrustMaterial(
      KeysetChain chain, List<SignedDoc> revocations, List<SignedDoc> credentials) {}

  /**
   * The trust material of the workspace set on {@code conn} (the machine's signature already
   * checked there).
   */
  Future<TrustMaterial> trustMaterial(SqlConnection conn) {
    return keysets
        .chain(conn)
        .compose(
            chain ->
                devices
                    .revocations(conn)
                    // the trusted devices' current credentials: after a rotation the daemon
                    // re-checks its live
                    // sessions against these (it verifies each under the pinned keyset; the list
                    // adds no trust)
                    .compose(
                        revs ->
                            devices
                                .trustedCredentials(conn)
                                .map(creds -> new TrustMaterial(chain, revs, creds))));
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }

  /** Runs {@code step} for each item, one after the other. */
  static <T> Future<Void> inOrder(List<T> items, Function<T, Future<Void>> step) {
    Future<Void> f = Future.succeededFuture();
    for (T item : items) {
      f = f.compose(x -> step.apply(item));
    }
    return f;
  }
}
