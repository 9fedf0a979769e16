package dev.umbra.controlplane.devices;

import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.errors.Refusal.Conflict.Reason;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.notify.RevocationNotices;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.Role;
import dev.umbra.proto.api.Device;
import dev.umbra.proto.bus.RevokedKind;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;

/**
 * A workspace's devices (docs/device-trust.md): signed requests, approval with a credential the
 * workspace key signed, rejection, revocation, a device's WebTTY key, its envelope.
 */
final class DeviceService {
  private final Tenancy tenancy;
  private final KeysetStore keysets;
  private final DeviceStore devices;
  private final AuditTrail audit;
  private final RevocationNotices revocations;
  private final Clock clock;

  DeviceService(
      Tenancy tenancy,
      KeysetStore keysets,
      DeviceStore devices,
      AuditTrail audit,
      RevocationNotices revocations,
      Clock clock) {
    this.tenancy = tenancy;
    this.keysets = keysets;
    this.devices = devices;
    this.audit = audit;
    this.revocations = revocations;
    this.clock = clock;
  }

  static Refusal deviceExists() {
    return Refusal.conflict(Reason.DEVICE_EXISTS, "a device with this id or key already exists");
  }

  /** The device, or not found. */
  static Future<Device> existing(DeviceStore devices, SqlConnection conn, UUID id) {
    return devices.get(conn, id).compose(DeviceService::found);
  }

  private static Future<Device> found(Device d) {
    return d == null ? Future.failedFuture(Refusal.notFound("device")) : Future.succeededFuture(d);
  }

  Future<List<Device>> page(Caller caller, UUID wid, UUID after, int limit) {
    return tenancy.asMember(
        caller.principal(), wid, Role.VIEWER, (conn, m) -> devices.page(conn, after, limit));
  }

  Future<Device> get(Caller caller, UUID wid, UUID id) {
    return tenancy.asMember(
        caller.principal(), wid, Role.VIEWER, (conn, m) -> existing(devices, conn, id));
  }

  /**
   * A member asks to trust a device (pending until an admin approves); the workspace must have a
   * keyset.
   */
  Future<Device> request(Caller caller, UUID wid, TrustDocuments.DeviceRequest d) {
    return tenancy
        .asMember(
            caller.principal(),
            wid,
            Role.MEMBER,
            (conn, m) ->
                keysets
                    .current(conn)
                    .compose(CurrentKeyset::required)
                    .compose(
                        c ->
                            devices.add(
                                conn, wid, caller.accountId(), d, "pending", null, null, now()))
                    .compose(
                        added ->
                            added
                                ? existing(devices, conn, d.id())
                                : Future.failedFuture(deviceExists())))
        .onSuccess(
            x ->
                audit.memberDid(
                    caller.sourceIp(),
                    wid,
                    caller.accountId(),
                    AuditAction.DEVICE_TRUST_REQUESTED,
                    "device:" + d.id()));
  }

  /**
   * Approves a pending device (admin): {@code body}'s {@code credential} must name exactly its keys
   * and the current version, signed by the current workspace key; {@code envelope} is stored for
   * it.
   */
  Future<Device> approve(Caller caller, UUID wid, UUID id, JsonObject body, String envelope) {
    AuditTrail.Recorded audited =
        audit.memberWill(caller, wid, AuditAction.DEVICE_APPROVED, "device:" + id);
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.ADMIN,
        audited,
        (conn, m) ->
            keysets
                .lockCurrent(conn, wid)
                .compose(
                    cur ->
                        devices
                            .lock(conn, id)
                            .compose(DeviceService::found)
                            .compose(
                                d -> {
                                  if (!d.pending()) {
                                    return Future.failedFuture(
                                        Refusal.conflict(
                                            Reason.NOT_PENDING,
                                            "the device is " + d.status() + ", not pending"));
                                  }
                                  SignedPayload cred =
                                      TrustDocuments.credential(
                                          body,
                                          "credential",
                                          wid,
                                          id,
                                          DeviceRows.signingKey(d),
                                          DeviceRows.envelopeKey(d),
                                          cur.version(),
                                          cur.signingKey());
                                  OffsetDateTime now = now();
                                  return devices
                                      .trust(conn, id, cred, cur.version(), now)
                                      .compose(
                                          y ->
                                              keysets.putEnvelope(
                                                  conn,
                                                  wid,
                                                  cur.version(),
                                                  SealedEnvelope.Recipient.DEVICE,
                                                  id,
                                                  envelope,
                                                  now));
                                }))
                .compose(x -> existing(devices, conn, id)));
  }

  /**
   * Rejects a pending request (admin): the row is deleted (it never held a credential or an
   * envelope, so nothing needs the workspace key's signature). A trusted device is revoked instead.
   */
  Future<Device> reject(Caller caller, UUID wid, UUID id) {
    AuditTrail.Recorded audited =
        audit.memberWill(caller, wid, AuditAction.DEVICE_REJECTED, "device:" + id);
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.ADMIN,
        audited,
        (conn, m) ->
            keysets
                .lock(conn, wid)
                .compose(x -> devices.lock(conn, id))
                .compose(DeviceService::found)
                .compose(
                    d ->
                        d.pending()
                            ? devices.deletePending(conn, id).map(x -> d.withStatus("rejected"))
                            : Future.failedFuture(
                                Refusal.conflict(
                                    Reason.NOT_PENDING,
                                    "the device is "
                                        + d.status()
                                        + ", not pending: revoke it instead"))));
  }

  /**
   * Revokes a pending or trusted device (admin) with a revocation the current workspace key signed;
   * its envelopes go.
   */
  Future<Device> revoke(Caller caller, UUID wid, UUID id, SignedPayload revocation) {
    AuditTrail.Recorded audited =
        audit.memberWill(caller, wid, AuditAction.DEVICE_REVOKED, "device:" + id);
    return tenancy
        .asMember(
            caller.principal(),
            wid,
            Role.ADMIN,
            audited,
            (conn, m) ->
                keysets
                    .lock(conn, wid)
                    .compose(x -> devices.lock(conn, id))
                    .compose(DeviceService::found)
                    .compose(d -> keysets.current(conn))
                    .compose(CurrentKeyset::required)
                    .compose(
                        cur -> {
                          revocation.verify(cur.signingKey());
                          return devices.revoke(conn, id, revocation, now());
                        })
                    .compose(
                        revoked ->
                            revoked
                                ? keysets.dropEnvelopes(conn, SealedEnvelope.Recipient.DEVICE, id)
                                : Future.failedFuture(
                                    Refusal.conflict(
                                        Reason.ALREADY_REVOKED,
                                        "the device is already revoked or rejected")))
                    .compose(x -> existing(devices, conn, id)))
        // published once committed: a daemon that refreshes its pin on hearing it finds the
        // revocation
        .onSuccess(
            d -> {
              revocations.revoked(
                  RevokedKind.REVOKED_KIND_DEVICE, wid, id.toString(), d.accountId());
            });
  }

  /**
   * Publishes a device's WebTTY key binding: only the device's own account, not for a revoked
   * device, signed by the device's stored Ed25519 key. A second line: openers and daemons verify it
   * against the device's workspace-signed credential.
   */
  Future<Device> putWebTtyKey(Caller caller, UUID wid, UUID id, SignedPayload key) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.VIEWER,
        (conn, m) ->
            devices
                .lock(conn, id)
                .compose(DeviceService::found)
                .compose(
                    d -> {
                      if (!caller.accountId().equals(d.accountId())
                          || "revoked".equals(d.status())) {
                        return Future.failedFuture(
                            Refusal.notAllowed(
                                Refusal.NotAllowed.Reason.NOT_YOUR_DEVICE,
                                "only a device's own account publishes its WebTTY key, and not for a revoked device",
                                "device_id"));
                      }
                      key.verify(Ed25519PublicKey.fromBytes(DeviceRows.signingKey(d)));
                      return devices.setWebTtyKey(conn, id, key);
                    })
                .compose(x -> existing(devices, conn, id)));
  }

  /** The device's envelope of the newest version (viewer), or not found. */
  Future<SealedEnvelope> envelope(Caller caller, UUID wid, UUID id) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.VIEWER,
        (conn, m) ->
            keysets
                .newestEnvelope(conn, SealedEnvelope.Recipient.DEVICE, id)
                .compose(DeviceService::envelopeFound));
  }

  static Future<SealedEnvelope> envelopeFound(SealedEnvelope e) {
    return e == null
        ? Future.failedFuture(Refusal.notFound("envelope"))
        : Future.succeededFuture(e);
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }
}
