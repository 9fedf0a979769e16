package dev.umbra.client.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.client.trust.TrustModel.Credential;
import dev.umbra.client.trust.TrustModel.DeviceKeys;
import dev.umbra.client.trust.TrustModel.DeviceWebTtyKey;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.sign.Signed;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HexFormat;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A device's WebTTY key binding (docs/webtty.md, "Recipients"): it counts only when the device its
 * credential names signed it, for the same workspace and device; the published conformance vectors
 * parse and verify through the daemon's own code.
 */
class DeviceWebTtyKeyTest {
  final UUID ws = UUID.randomUUID();
  final UUID device = UUID.randomUUID();
  final Ed25519KeyPair deviceKey = Ed25519KeyPair.generate();
  final Credential credential =
      new Credential(
          ws,
          device,
          1,
          new DeviceKeys(deviceKey.publicKey(), P256KeyPair.generate().publicKey()),
          "laptop",
          "cli",
          "2026-12-04T17:00:00Z");

  @Test
  void aBindingCountsOnlyWhenTheCredentialsDeviceSignedItForItselfInItsWorkspace() {
    X25519KeyPair k = X25519KeyPair.generate();
    Signed good =
        Signed.sign(
            new DeviceWebTtyKey(ws, device, k.publicKey(), "2026-12-04T17:00:00Z").fields(),
            deviceKey.privateKey());
    assertThat(DeviceWebTtyKey.verified(good, credential).key()).isEqualTo(k.publicKey());

    Signed byAnother =
        Signed.sign(
            new DeviceWebTtyKey(ws, device, k.publicKey(), "2026-12-04T17:00:00Z").fields(),
            Ed25519KeyPair.generate().privateKey());
    Signed otherDevice =
        Signed.sign(
            new DeviceWebTtyKey(ws, UUID.randomUUID(), k.publicKey(), "2026-12-04T17:00:00Z")
                .fields(),
            deviceKey.privateKey());
    Signed otherWorkspace =
        Signed.sign(
            new DeviceWebTtyKey(UUID.randomUUID(), device, k.publicKey(), "2026-12-04T17:00:00Z")
                .fields(),
            deviceKey.privateKey());
    java.util.Map<String, Object> extra =
        new java.util.TreeMap<>(
            new DeviceWebTtyKey(ws, device, k.publicKey(), "2026-12-04T17:00:00Z").fields());
    extra.put("role", "admin");
    Signed withExtra = Signed.sign(extra, deviceKey.privateKey());
    for (Signed bad : java.util.List.of(byAnother, otherDevice, otherWorkspace, withExtra)) {
      assertThatThrownBy(() -> DeviceWebTtyKey.verified(bad, credential))
          .as(bad.payload())
          .isInstanceOf(CryptoException.class);
    }
  }

  @Test
  void thePublishedConformanceVectorsVerifyWithTheDaemonsOwnCode() throws Exception {
    JsonArray vectors = dev.umbra.client.testing.ConformanceVectors.of("device-webtty-key.json");
    assertThat(vectors).isNotEmpty();
    for (Object o : vectors) {
      JsonObject v = (JsonObject) o;
      Signed signed =
          new Signed(v.getString("payload"), HexFormat.of().parseHex(v.getString("signature")));
      DeviceWebTtyKey k = DeviceWebTtyKey.of(signed);
      assertThat(k.key().toHex())
          .isEqualTo(v.getJsonObject("document").getString("x25519_public_key"));
      Credential c =
          new Credential(
              k.workspaceId(),
              k.deviceId(),
              1,
              new DeviceKeys(
                  dev.umbra.crypto.keys.Ed25519PublicKey.fromHex(v.getString("device_public_key")),
                  P256KeyPair.generate().publicKey()),
              "d",
              "cli",
              "2026-12-04T17:00:00Z");
      assertThat(DeviceWebTtyKey.verified(signed, c).key()).isEqualTo(k.key());
      Signed tampered = new Signed(v.getString("tampered_payload"), signed.signature());
      assertThatThrownBy(() -> DeviceWebTtyKey.verified(tampered, c))
          .isInstanceOf(CryptoException.class);
    }
  }
}
