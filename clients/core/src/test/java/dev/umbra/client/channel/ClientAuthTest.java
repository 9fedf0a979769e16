package dev.umbra.client.channel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.client.trust.TrustStore;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.sign.Signed;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The relay client authorization carried in Noise message 1, against hostile payloads. */
class ClientAuthTest {
  final UUID ws = UUID.randomUUID();
  final String w = ws.toString();
  final String target = UUID.randomUUID().toString();
  final Ed25519KeyPair root = Ed25519KeyPair.generate();
  final Signed keyset =
      Signed.sign(
          new TrustModel.Keyset(ws, 1, root.publicKey(), X25519KeyPair.generate().publicKey(), "t")
              .fields(),
          root.privateKey());
  final Ed25519KeyPair device = Ed25519KeyPair.generate();
  final UUID deviceId = UUID.randomUUID();
  final Signed credential =
      Signed.sign(
          new TrustModel.Credential(
                  ws,
                  deviceId,
                  1,
                  new TrustModel.DeviceKeys(device.publicKey(), P256KeyPair.generate().publicKey()),
                  "laptop",
                  "cli",
                  "t")
              .fields(),
          root.privateKey());
  final X25519KeyPair noise = X25519KeyPair.generate();

  Optional<DeviceTrust> trust() {
    return Optional.of(TrustStore.pinFirst(ws, List.of(keyset), List.of()));
  }

  @Test
  void aTrustedDeviceBindingItsOwnStaticKeyIsAdmitted() {
    byte[] p = ClientAuth.payload(credential, device, w, target, noise.publicKey());
    assertThat(ClientAuth.refusal(trust(), p, w, target, noise.publicKey())).isNull();
  }

  @Test
  void withoutAPinAnyMemberIsAdmittedAsBefore() {
    assertThat(ClientAuth.refusal(Optional.empty(), new byte[0], w, target, noise.publicKey()))
        .isNull();
  }

  @Test
  void theBindingIsForOneStaticKeyWorkspaceAndTarget() {
    byte[] p = ClientAuth.payload(credential, device, w, target, noise.publicKey());
    assertThat(ClientAuth.refusal(trust(), p, w, target, X25519KeyPair.generate().publicKey()))
        .isEqualTo("static_key_not_bound");
    assertThat(ClientAuth.refusal(trust(), p, w, UUID.randomUUID().toString(), noise.publicKey()))
        .isEqualTo("static_key_not_bound");
    byte[] otherSigner =
        ClientAuth.payload(credential, Ed25519KeyPair.generate(), w, target, noise.publicKey());
    assertThat(ClientAuth.refusal(trust(), otherSigner, w, target, noise.publicKey()))
        .isEqualTo("static_key_not_bound");
  }

  @Test
  void aCredentialTheWorkspaceKeyNeverSignedOrARevokedDeviceIsRefused() {
    Signed forged =
        Signed.sign(
            TrustModel.Credential.of(credential).fields(), Ed25519KeyPair.generate().privateKey());
    assertThat(
            ClientAuth.refusal(
                trust(),
                ClientAuth.payload(forged, device, w, target, noise.publicKey()),
                w,
                target,
                noise.publicKey()))
        .isEqualTo("device_not_trusted");
    DeviceTrust t = trust().orElseThrow();
    t.revoke(Signed.sign(new TrustModel.Revocation(ws, deviceId, "t").fields(), root.privateKey()));
    assertThat(
            ClientAuth.refusal(
                Optional.of(t),
                ClientAuth.payload(credential, device, w, target, noise.publicKey()),
                w,
                target,
                noise.publicKey()))
        .isEqualTo("device_revoked");
  }

  @Test
  void malformedPayloadsAreRefusedWithoutThrowing() {
    for (String bad :
        List.of(
            "x",
            "{}",
            "[]",
            "{\"type\":\"umbra-relay-client-auth/v1\"}",
            "[".repeat(5000),
            "{\"credential\":{\"payload\":\"{}\",\"signature\":\"00\"},\"static_key_signature\":\"zz\",\"type\":\"umbra-relay-client-auth/v1\"}")) {
      assertThat(
              ClientAuth.refusal(
                  trust(), bad.getBytes(StandardCharsets.UTF_8), w, target, noise.publicKey()))
          .as(bad.length() > 40 ? bad.substring(0, 40) : bad)
          .isEqualTo("bad_device_credential");
    }
    assertThat(ClientAuth.refusal(trust(), new byte[0], w, target, noise.publicKey()))
        .isEqualTo("no_device_credential");
    assertThat(
            ClientAuth.refusal(
                trust(), new byte[ClientAuth.MAX_PAYLOAD + 1], w, target, noise.publicKey()))
        .isEqualTo("bad_device_credential");
  }

  @Test
  void aRecheckAfterTheRotationKeepsAReissuedDevicesChannelAndEndsTheRevokedOnes() {
    byte[] atOpen = ClientAuth.payload(credential, device, w, target, noise.publicKey());
    Ed25519KeyPair v2 = Ed25519KeyPair.generate();
    Signed keyset2 =
        Signed.sign(
            new TrustModel.Keyset(ws, 2, v2.publicKey(), X25519KeyPair.generate().publicKey(), "t")
                .fields(),
            root.privateKey());
    Signed reissued =
        Signed.sign(
            new TrustModel.Credential(
                    ws,
                    deviceId,
                    2,
                    TrustModel.Credential.of(credential).keys(),
                    "laptop",
                    "cli",
                    "t2")
                .fields(),
            v2.privateKey());
    DeviceTrust t = trust().orElseThrow();
    t.update(List.of(keyset, keyset2), List.of(), List.of(reissued));
    assertThat(ClientAuth.refusal(Optional.of(t), atOpen, w, target, noise.publicKey()))
        .as("as if presented today")
        .isEqualTo("device_not_trusted");
    assertThat(ClientAuth.recheck(Optional.of(t), atOpen))
        .as("the device is still trusted")
        .isNull();
    // without its reissued credential (the rotation left it out) the channel ends
    DeviceTrust leftOut = trust().orElseThrow();
    leftOut.update(List.of(keyset, keyset2), List.of(), List.of());
    assertThat(ClientAuth.recheck(Optional.of(leftOut), atOpen)).isEqualTo("device_not_trusted");
    // revoked: ends whatever was reissued
    t.revoke(Signed.sign(new TrustModel.Revocation(ws, deviceId, "t").fields(), v2.privateKey()));
    assertThat(ClientAuth.recheck(Optional.of(t), atOpen)).isEqualTo("device_revoked");
    // still no pin: any member, as at open; a pin appeared since: a channel without a credential
    // ends
    assertThat(ClientAuth.recheck(Optional.empty(), new byte[0])).isNull();
    assertThat(ClientAuth.recheck(trust(), new byte[0])).isEqualTo("no_device_credential");
  }
}
