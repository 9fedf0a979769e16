package dev.umbra.controlplane.devices;

import static dev.umbra.controlplane.DeviceTrustApiTest.credential;
import static dev.umbra.controlplane.DeviceTrustApiTest.envelope;
import static dev.umbra.controlplane.DeviceTrustApiTest.keyset;
import static dev.umbra.controlplane.DeviceTrustApiTest.signed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.kit.http.ApiException;
import dev.umbra.proto.api.Device;
import io.vertx.core.json.JsonObject;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The rules of a keyset rotation, decided without storage ({@link Rotation}). */
class RotationTest {
  final UUID wid = UUID.randomUUID();
  final Ed25519KeyPair currentKey = Ed25519KeyPair.generate();
  final Ed25519KeyPair nextKey = Ed25519KeyPair.generate();
  final CurrentKeyset current = new CurrentKeyset(3, currentKey.publicKey());

  /** A trusted device with its keys, as stored. */
  record Held(Device device, Ed25519KeyPair ed, P256KeyPair p256) {}

  Held trusted() {
    Ed25519KeyPair ed = Ed25519KeyPair.generate();
    P256KeyPair p = P256KeyPair.generate();
    Device d =
        new Device(
            UUID.randomUUID(),
            wid,
            UUID.randomUUID(),
            "laptop",
            "cli",
            "trusted",
            HexFormat.of().formatHex(ed.publicKey().toBytes()),
            HexFormat.of().formatHex(p.publicKey().toBytes()),
            null,
            null,
            null,
            3,
            "2026-12-01T00:00:00Z",
            null,
            null,
            null);
    return new Held(d, ed, p);
  }

  TrustDocuments.Keyset next(int version, Ed25519KeyPair signedBy) {
    JsonObject body =
        new JsonObject()
            .put(
                "keyset",
                signed(
                    keyset(wid.toString(), version, nextKey, X25519KeyPair.generate()), signedBy));
    return TrustDocuments.keyset(body, wid);
  }

  JsonObject renewal(Held h, int version, Ed25519KeyPair signedBy) {
    return new JsonObject()
        .put("device_id", h.device().id().toString())
        .put(
            "credential",
            signed(
                credential(wid.toString(), h.device().id(), h.ed(), h.p256(), version), signedBy))
        .put("envelope", envelope(h.p256()));
  }

  JsonObject kitRenewal(UUID kitId, Ed25519KeyPair signedBy) {
    P256KeyPair kp = P256KeyPair.generate();
    Map<String, Object> k = new TreeMap<>();
    k.put("type", TrustDocuments.RECOVERY_KIT);
    k.put("workspace_id", wid.toString());
    k.put("kit_id", kitId.toString());
    k.put("p256_public_key", kp.publicKey().toHex());
    k.put("created_at", "2026-12-01T00:00:00Z");
    return new JsonObject()
        .put("kit_id", kitId.toString())
        .put("kit", signed(k, signedBy))
        .put("envelope", envelope(kp));
  }

  @Test
  void theNextKeysetFollowsTheCurrentVersionAndIsSignedByTheCurrentKey() {
    new Rotation(wid, next(4, currentKey), Map.of(), Map.of()).checkFollows(current);

    for (int stale : new int[] {3, 5, 1}) {
      assertThatThrownBy(
              () ->
                  new Rotation(wid, next(stale, currentKey), Map.of(), Map.of())
                      .checkFollows(current))
          .isInstanceOfSatisfying(
              Refusal.Conflict.class,
              c -> {
                assertThat(c.reason()).isEqualTo(Refusal.Conflict.Reason.STALE_KEYSET);
                assertThat(c.getMessage()).isEqualTo("keyset.version must be 4");
              });
    }
    // self-signed by the new key (what anyone could make) is not signed by the workspace
    assertThatThrownBy(
            () -> new Rotation(wid, next(4, nextKey), Map.of(), Map.of()).checkFollows(current))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.field()).isEqualTo("keyset"));
  }

  @Test
  void everyTrustedDeviceIsRenewedExactlyOnceWithACredentialOfTheNewVersionSignedByTheNewKey() {
    Held a = trusted();
    Held b = trusted();
    Rotation r =
        new Rotation(
            wid,
            next(4, currentKey),
            Map.of(
                a.device().id(), renewal(a, 4, nextKey), b.device().id(), renewal(b, 4, nextKey)),
            Map.of());

    List<Rotation.DeviceRenewal> renewals = r.renewDevices(List.of(a.device(), b.device()));

    assertThat(renewals)
        .extracting(Rotation.DeviceRenewal::deviceId)
        .containsExactly(a.device().id(), b.device().id());
    assertThat(renewals.get(0).credential().num("keyset_version")).isEqualTo(4);
  }

  @Test
  void aRotationThatLeavesOutATrustedDeviceOrNamesAnotherIsRefused() {
    Held a = trusted();
    Held b = trusted();
    Held stranger = trusted();
    Rotation onlyA =
        new Rotation(
            wid, next(4, currentKey), Map.of(a.device().id(), renewal(a, 4, nextKey)), Map.of());
    assertThatThrownBy(() -> onlyA.renewDevices(List.of(a.device(), b.device())))
        .isInstanceOfSatisfying(
            Refusal.Invalid.class,
            e -> {
              assertThat(e.field()).isEqualTo("devices");
              assertThat(e.getMessage())
                  .isEqualTo("devices must list exactly the 2 trusted devices");
            });

    Rotation swapped =
        new Rotation(
            wid,
            next(4, currentKey),
            Map.of(
                a.device().id(),
                renewal(a, 4, nextKey),
                stranger.device().id(),
                renewal(stranger, 4, nextKey)),
            Map.of());
    assertThatThrownBy(() -> swapped.renewDevices(List.of(a.device(), b.device())))
        .isInstanceOfSatisfying(
            Refusal.Invalid.class,
            e ->
                assertThat(e.getMessage())
                    .isEqualTo("trusted device " + b.device().id() + " is missing"));
  }

  @Test
  void aCredentialOfTheOldVersionOrSignedByTheOldKeyIsRefused() {
    Held a = trusted();
    for (JsonObject bad : List.of(renewal(a, 3, nextKey), renewal(a, 4, currentKey))) {
      Rotation r = new Rotation(wid, next(4, currentKey), Map.of(a.device().id(), bad), Map.of());
      assertThatThrownBy(() -> r.renewDevices(List.of(a.device())))
          .satisfies(
              e ->
                  assertThat(
                          e instanceof Refusal.Invalid i ? i.field() : ((ApiException) e).field())
                      .isEqualTo("credential"));
    }
  }

  @Test
  void liveKitsListedAreRenewedUnderTheNewKeyTheOthersRetiredAndUnknownOnesIgnored() {
    UUID kept = UUID.randomUUID();
    UUID dropped = UUID.randomUUID();
    UUID unknown = UUID.randomUUID();
    Rotation r =
        new Rotation(
            wid,
            next(4, currentKey),
            Map.of(),
            Map.of(kept, kitRenewal(kept, nextKey), unknown, kitRenewal(unknown, nextKey)));

    Rotation.KitPlan plan = r.renewKits(List.of(kept, dropped));

    assertThat(plan.renewed()).extracting(Rotation.KitRenewal::kitId).containsExactly(kept);
    assertThat(plan.retired()).containsExactly(dropped);

    Rotation oldKey =
        new Rotation(
            wid, next(4, currentKey), Map.of(), Map.of(kept, kitRenewal(kept, currentKey)));
    assertThatThrownBy(() -> oldKey.renewKits(List.of(kept)))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.field()).isEqualTo("kit"));
  }
}
