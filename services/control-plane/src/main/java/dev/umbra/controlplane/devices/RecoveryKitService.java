package dev.umbra.controlplane.devices;

import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.errors.Refusal.Conflict.Reason;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.Role;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;

/**
 * Recovery Kits (docs/device-trust.md), all admin: registered pending with an envelope of the
 * current version, confirmed once stored (retiring the previous one), their envelope read to
 * recover.
 */
final class RecoveryKitService {
  private final Tenancy tenancy;
  private final KeysetStore keysets;
  private final RecoveryKitStore kits;
  private final AuditTrail audit;
  private final Clock clock;

  RecoveryKitService(
      Tenancy tenancy, KeysetStore keysets, RecoveryKitStore kits, AuditTrail audit, Clock clock) {
    this.tenancy = tenancy;
    this.keysets = keysets;
    this.kits = kits;
    this.audit = audit;
    this.clock = clock;
  }

  Future<List<RecoveryKit>> all(Caller caller, UUID wid) {
    return tenancy.asMember(caller.principal(), wid, Role.ADMIN, (conn, m) -> kits.all(conn));
  }

  /**
   * Registers {@code body}'s {@code kit}, which the current workspace key must have signed, with
   * its envelope.
   */
  Future<RecoveryKit> create(Caller caller, UUID wid, JsonObject body, String envelope) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.ADMIN,
        (conn, m) ->
            keysets
                .lockCurrent(conn, wid)
                .compose(
                    cur -> {
                      SignedPayload kit = TrustDocuments.kit(body, wid, null, cur.signingKey());
                      UUID kitId = kit.uuid("kit_id");
                      OffsetDateTime now = now();
                      return kits.add(conn, wid, kitId, kit, now)
                          .compose(
                              k ->
                                  k == null
                                      ? Future.failedFuture(
                                          Refusal.conflict(
                                              Reason.KIT_EXISTS, "a kit with this id exists"))
                                      : keysets
                                          .putEnvelope(
                                              conn,
                                              wid,
                                              cur.version(),
                                              SealedEnvelope.Recipient.RECOVERY_KIT,
                                              kitId,
                                              envelope,
                                              now)
                                          .map(k));
                    }),
        // the kit's id is in the signed kit, read in the transaction
        k ->
            audit.memberWill(
                caller, wid, AuditAction.RECOVERY_KIT_CREATED, "recovery_kit:" + k.id()));
  }

  /** Confirms a pending kit; the previously confirmed one is retired and its envelope dropped. */
  Future<RecoveryKit> confirm(Caller caller, UUID wid, UUID id) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.ADMIN,
        audit.memberWill(
            caller, wid, AuditAction.RECOVERY_KIT_CREATED, "recovery_kit:" + id + ":confirmed"),
        (conn, m) ->
            kits.confirm(conn, id, now())
                .compose(
                    confirmed ->
                        confirmed
                            ? kits.retireAllBut(conn, id)
                            : kits.get(conn, id)
                                .compose(
                                    k ->
                                        Future.<Void>failedFuture(
                                            k == null
                                                ? Refusal.notFound("recovery kit")
                                                : Refusal.conflict(
                                                    Reason.NOT_PENDING, "the kit is not pending"))))
                .compose(x -> kits.get(conn, id)));
  }

  /** The kit's envelope of the newest version; reading it is audited as the kit's use. */
  Future<SealedEnvelope> envelope(Caller caller, UUID wid, UUID id) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.ADMIN,
        audit.memberWill(caller, wid, AuditAction.RECOVERY_KIT_USED, "recovery_kit:" + id),
        (conn, m) ->
            keysets
                .newestEnvelope(conn, SealedEnvelope.Recipient.RECOVERY_KIT, id)
                .compose(DeviceService::envelopeFound));
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }
}
