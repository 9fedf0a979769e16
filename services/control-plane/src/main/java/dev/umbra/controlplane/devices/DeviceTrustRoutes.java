package dev.umbra.controlplane.devices;

import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.notify.RevocationNotices;
import dev.umbra.controlplane.workspaces.Tenancy;
import java.time.Clock;

/**
 * Workspace Protection's HTTP API (docs/device-trust.md), wired by hand: the public keyset chain,
 * rotation and machine trust material ({@link KeysetRoutes}), device trust requests, approvals and
 * revocations ({@link DeviceRoutes}), Recovery Kits ({@link RecoveryKitRoutes}). Each
 * sub-resource's routes only parse, check the documents' shape ({@link TrustDocuments}), call their
 * service and render ({@link TrustJson}, {@link TrustSchemas}); the stores hold the SQL. Only
 * public keys, signed payloads and envelopes (ciphertext) pass through here.
 */
public final class DeviceTrustRoutes {
  private final KeysetRoutes keysets;
  private final DeviceRoutes devices;
  private final RecoveryKitRoutes kits;

  private DeviceTrustRoutes(KeysetRoutes keysets, DeviceRoutes devices, RecoveryKitRoutes kits) {
    this.keysets = keysets;
    this.devices = devices;
    this.kits = kits;
  }

  /** The feature wired by hand: its stores, services and routes, each given only what it uses. */
  public static DeviceTrustRoutes wire(
      Authenticator auth,
      Tenancy tenancy,
      AuditTrail audit,
      RevocationNotices revocations,
      MachineRequest.Checker machines,
      Clock clock) {
    KeysetStore keysetStore = new KeysetStore();
    DeviceStore deviceStore = new DeviceStore();
    RecoveryKitStore kitStore = new RecoveryKitStore();
    KeysetService keysets =
        new KeysetService(tenancy, keysetStore, deviceStore, kitStore, audit, revocations, clock);
    DeviceService devices =
        new DeviceService(tenancy, keysetStore, deviceStore, audit, revocations, clock);
    RecoveryKitService kits = new RecoveryKitService(tenancy, keysetStore, kitStore, audit, clock);
    return new DeviceTrustRoutes(
        new KeysetRoutes(auth, clock, machines, keysets),
        new DeviceRoutes(auth, clock, devices),
        new RecoveryKitRoutes(auth, kits));
  }

  /** Every route of the feature, by sub-resource. */
  public void register(ApiRoutes routes) {
    keysets.register(routes);
    devices.register(routes);
    kits.register(routes);
  }
}
