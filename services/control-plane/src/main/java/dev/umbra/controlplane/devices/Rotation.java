package dev.umbra.controlplane.devices;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.errors.Refusal.Conflict.Reason;
import dev.umbra.proto.api.Device;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The rules of a keyset rotation (docs/device-trust.md, Rotation), decided without storage: the
 * next keyset follows the current one and is signed by its key; every trusted device is renewed
 * exactly once with a credential of the new version and an envelope; each live Recovery Kit is
 * renewed when listed and retired when not. {@code RotationTest} states them.
 *
 * @param workspaceId the workspace rotated
 * @param next the new keyset, its fields already checked ({@link TrustDocuments#keyset})
 * @param devices the submitted items by device id ({@code credential}, {@code envelope})
 * @param kits the submitted items by kit id ({@code kit}, {@code envelope})
 */
record Rotation(
    UUID workspaceId,
    TrustDocuments.Keyset next,
    Map<UUID, JsonObject> devices,
    Map<UUID, JsonObject> kits) {

  /** One trusted device's new credential and envelope. */
  record DeviceRenewal(UUID deviceId, SignedPayload credential, String envelope) {}

  /** One kit's new signed document and envelope. */
  record KitRenewal(UUID kitId, SignedPayload kit, String envelope) {}

  /** What happens to the live kits: renewed ones, retired ones. */
  record KitPlan(List<KitRenewal> renewed, List<UUID> retired) {}

  /** The next version must follow {@code current} and be signed by the current workspace key. */
  void checkFollows(CurrentKeyset current) {
    if (next.version() != current.version() + 1) {
      throw Refusal.conflict(
          Reason.STALE_KEYSET, "keyset.version must be " + (current.version() + 1));
    }
    next.signed().verify(current.signingKey());
  }

  /**
   * Each trusted device's renewal, in the order given; refused unless the list names exactly these
   * devices, each validly.
   */
  List<DeviceRenewal> renewDevices(List<Device> trusted) {
    if (trusted.size() != devices.size()) {
      throw Refusal.invalid(
          "devices", "devices must list exactly the " + trusted.size() + " trusted devices");
    }
    List<DeviceRenewal> out = new ArrayList<>();
    for (Device d : trusted) {
      JsonObject item = devices.get(d.id());
      if (item == null) {
        throw Refusal.invalid("devices", "trusted device " + d.id() + " is missing");
      }
      SignedPayload cred =
          TrustDocuments.credential(
              item,
              "credential",
              workspaceId,
              d.id(),
              DeviceRows.signingKey(d),
              DeviceRows.envelopeKey(d),
              next.version(),
              next.signingKey());
      out.add(new DeviceRenewal(d.id(), cred, TrustDocuments.envelope(item, "envelope")));
    }
    return out;
  }

  /**
   * The live kits listed are renewed (signed by the new key), the others retired; listed kits that
   * are not live are ignored.
   */
  KitPlan renewKits(List<UUID> live) {
    List<KitRenewal> renewed = new ArrayList<>();
    List<UUID> retired = new ArrayList<>();
    for (UUID id : live) {
      JsonObject item = kits.get(id);
      if (item == null) {
        retired.add(id);
      } else {
        SignedPayload kit = TrustDocuments.kit(item, workspaceId, id, next.signingKey());
        renewed.add(new KitRenewal(id, kit, TrustDocuments.envelope(item, "envelope")));
      }
    }
    return new KitPlan(renewed, retired);
  }
}
