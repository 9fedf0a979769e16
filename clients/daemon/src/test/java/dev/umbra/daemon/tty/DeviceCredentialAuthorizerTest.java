package dev.umbra.daemon.tty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.client.trust.TrustStore;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.sign.Signed;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The WebTTY re-check of a live session's opener after a trust refresh (docs/device-trust.md). */
class DeviceCredentialAuthorizerTest {
  final UUID ws = UUID.randomUUID();
  final Ed25519KeyPair v1 = Ed25519KeyPair.generate();
  final Ed25519KeyPair v2 = Ed25519KeyPair.generate();
  final Signed k1 =
      Signed.sign(
          new TrustModel.Keyset(ws, 1, v1.publicKey(), X25519KeyPair.generate().publicKey(), "t")
              .fields(),
          v1.privateKey());
  final Signed k2 =
      Signed.sign(
          new TrustModel.Keyset(ws, 2, v2.publicKey(), X25519KeyPair.generate().publicKey(), "t")
              .fields(),
          v1.privateKey());
  final Ed25519KeyPair device = Ed25519KeyPair.generate();
  final TrustModel.DeviceKeys keys =
      new TrustModel.DeviceKeys(device.publicKey(), P256KeyPair.generate().publicKey());
  final UUID deviceId = UUID.randomUUID();
  final ClientAuthorizer noLegacy = (w, k) -> false;

  Signed credential(int version, Ed25519KeyPair signer) {
    return Signed.sign(
        new TrustModel.Credential(ws, deviceId, version, keys, "laptop", "cli", "t").fields(),
        signer.privateKey());
  }

  @Test
  void aSessionOpenedBeforeTheRotationIsKeptWhileItsDeviceHasAReissuedCredential() {
    DeviceTrust t = TrustStore.pinFirst(ws, List.of(k1), List.of());
    ClientAuthorizer a = new DeviceCredentialAuthorizer(() -> Optional.of(t), noLegacy);
    Signed atOpen = credential(1, v1);
    assertThat(a.refusal(ws, device.publicKey(), atOpen)).isNull();
    t.update(List.of(k1, k2), List.of(), List.of(credential(2, v2)));
    assertThat(a.pinnedKeysetVersion()).isEqualTo(2);
    assertThat(a.refusal(ws, device.publicKey(), atOpen))
        .as("a new session needs the current credential")
        .isEqualTo("device_not_trusted");
    assertThat(a.recheck(ws, device.publicKey(), atOpen)).as("the live session continues").isNull();
    assertThat(a.recheck(ws, Ed25519KeyPair.generate().publicKey(), atOpen))
        .isEqualTo("credential_key_mismatch");
    t.revoke(Signed.sign(new TrustModel.Revocation(ws, deviceId, "t").fields(), v2.privateKey()));
    assertThat(a.recheck(ws, device.publicKey(), atOpen)).isEqualTo("device_revoked");
  }

  @Test
  void aPinThatCannotBeReadEndsNoLiveSessionButRefusesNewOnes() {
    ClientAuthorizer a =
        new DeviceCredentialAuthorizer(
            () -> {
              throw new MalformedInputException("the pinned trust file is invalid");
            },
            noLegacy);
    assertThat(a.refusal(ws, device.publicKey(), credential(1, v1))).isEqualTo("trust_unreadable");
    assertThat(a.recheck(ws, device.publicKey(), credential(1, v1))).isNull();
  }
}
