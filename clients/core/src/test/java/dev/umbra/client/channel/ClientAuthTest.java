package dev.umbra.client.channel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.client.trust.TrustStore;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.sign.Signed;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The relay client authorization carried in Noise message 1 (parsed; {@link HandshakePayloadTest}
 * feeds the parser hostile bytes).
 */
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

  static final HandshakePayload NO_PROOF = HandshakePayload.at(1L, Optional.empty());

  /** Message 1's payload (its time plays no part here) with the proof of a device. */
  static HandshakePayload payload(
      Signed credential, Ed25519KeyPair signer, String w, String target, X25519PublicKey key) {
    return HandshakePayload.at(
        1L, Optional.of(ClientAuth.proof(credential, signer, w, target, key)));
  }

  Optional<DeviceTrust> trust() {
    return Optional.of(TrustStore.pinFirst(ws, List.of(keyset), List.of()));
  }

  @Test
  void aTrustedDeviceBindingItsOwnStaticKeyIsAdmitted() {
    HandshakePayload p = payload(credential, device, w, target, noise.publicKey());
    assertThat(ClientAuth.refusal(trust(), p, w, target, noise.publicKey())).isNull();
  }

  @Test
  void withoutAPinAnyMemberIsAdmittedAsBefore() {
    assertThat(ClientAuth.refusal(Optional.empty(), NO_PROOF, w, target, noise.publicKey()))
        .isNull();
  }

  @Test
  void theBindingIsForOneStaticKeyWorkspaceAndTarget() {
    HandshakePayload p = payload(credential, device, w, target, noise.publicKey());
    assertThat(ClientAuth.refusal(trust(), p, w, target, X25519KeyPair.generate().publicKey()))
        .isEqualTo("static_key_not_bound");
    assertThat(ClientAuth.refusal(trust(), p, w, UUID.randomUUID().toString(), noise.publicKey()))
        .isEqualTo("static_key_not_bound");
    HandshakePayload otherSigner =
        payload(credential, Ed25519KeyPair.generate(), w, target, noise.publicKey());
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
                payload(forged, device, w, target, noise.publicKey()),
                w,
                target,
                noise.publicKey()))
        .isEqualTo("device_not_trusted");
    DeviceTrust t = trust().orElseThrow();
    t.revoke(Signed.sign(new TrustModel.Revocation(ws, deviceId, "t").fields(), root.privateKey()));
    assertThat(
            ClientAuth.refusal(
                Optional.of(t),
                payload(credential, device, w, target, noise.publicKey()),
                w,
                target,
                noise.publicKey()))
        .isEqualTo("device_revoked");
  }

  @Test
  void aPayloadWithoutProofIsRefusedUnderAPin() {
    assertThat(ClientAuth.refusal(trust(), NO_PROOF, w, target, noise.publicKey()))
        .isEqualTo("no_device_credential");
  }

  @Test
  void aRecheckAfterTheRotationKeepsAReissuedDevicesChannelAndEndsTheRevokedOnes() {
    HandshakePayload atOpen = payload(credential, device, w, target, noise.publicKey());
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
    assertThat(ClientAuth.recheck(Optional.of(t), atOpen.proof()))
        .as("the device is still trusted")
        .isNull();
    // without its reissued credential (the rotation left it out) the channel ends
    DeviceTrust leftOut = trust().orElseThrow();
    leftOut.update(List.of(keyset, keyset2), List.of(), List.of());
    assertThat(ClientAuth.recheck(Optional.of(leftOut), atOpen.proof()))
        .isEqualTo("device_not_trusted");
    // revoked: ends whatever was reissued
    t.revoke(Signed.sign(new TrustModel.Revocation(ws, deviceId, "t").fields(), v2.privateKey()));
    assertThat(ClientAuth.recheck(Optional.of(t), atOpen.proof())).isEqualTo("device_revoked");
    // still no pin: any member, as at open; a pin appeared since: a channel without a credential
    // ends
    assertThat(ClientAuth.recheck(Optional.empty(), Optional.empty())).isNull();
    assertThat(ClientAuth.recheck(trust(), Optional.empty())).isEqualTo("no_device_credential");
  }
}
