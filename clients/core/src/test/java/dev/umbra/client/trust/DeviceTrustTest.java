package dev.umbra.client.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.client.trust.TrustModel.Credential;
import dev.umbra.client.trust.TrustModel.DeviceKeys;
import dev.umbra.client.trust.TrustModel.Keyset;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.sign.Signed;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The daemon's offline verifier and the parsers of signed trust material from outside. */
class DeviceTrustTest {
  final UUID ws = UUID.randomUUID();
  final Ed25519KeyPair v1 = Ed25519KeyPair.generate();
  final Signed k1 =
      Signed.sign(
          new Keyset(ws, 1, v1.publicKey(), X25519KeyPair.generate().publicKey(), "t").fields(),
          v1.privateKey());
  final Ed25519KeyPair device = Ed25519KeyPair.generate();
  final DeviceKeys keys = new DeviceKeys(device.publicKey(), P256KeyPair.generate().publicKey());
  final UUID deviceId = UUID.randomUUID();

  DeviceTrust trust() {
    return TrustStore.pinFirst(ws, List.of(k1), List.of());
  }

  Signed credential(UUID workspace, UUID id, int version, Ed25519KeyPair signer) {
    return Signed.sign(
        new Credential(workspace, id, version, keys, "laptop", "cli", "t").fields(),
        signer.privateKey());
  }

  @Test
  void aCredentialTheWorkspaceKeySignedIsAuthorized() {
    Signed c = credential(ws, deviceId, 1, v1);
    assertThat(trust().isAuthorized(c)).isTrue();
    assertThat(trust().isAuthorized(c, device.publicKey())).isTrue();
    assertThat(trust().isAuthorized(c, Ed25519KeyPair.generate().publicKey())).isFalse();
  }

  @Test
  void daemonRefusesDeviceTheWorkspaceKeyNeverSigned() {
    assertThat(trust().isAuthorized(credential(ws, deviceId, 1, Ed25519KeyPair.generate())))
        .isFalse();
    assertThat(trust().isAuthorized(credential(UUID.randomUUID(), deviceId, 1, v1)))
        .as("other workspace")
        .isFalse();
    assertThat(trust().isAuthorized(credential(ws, deviceId, 2, v1)))
        .as("other keyset version")
        .isFalse();
    assertThat(trust().isAuthorized(null)).isFalse();
    Signed wrongType =
        Signed.sign(new TrustModel.Revocation(ws, deviceId, "t").fields(), v1.privateKey());
    assertThat(trust().isAuthorized(wrongType)).isFalse();
  }

  @Test
  void aServerSubstitutingItsOwnKeyChangesTheVerificationCode() {
    String code = TrustModel.verificationCode(ws, keys, v1.publicKey());
    assertThat(code).matches("[0-9A-Z]{4}(-[0-9A-Z]{4}){3}");
    DeviceKeys swappedSigning =
        new DeviceKeys(Ed25519KeyPair.generate().publicKey(), keys.envelopeKey());
    DeviceKeys swappedEnvelope =
        new DeviceKeys(keys.signingKey(), P256KeyPair.generate().publicKey());
    assertThat(TrustModel.verificationCode(ws, swappedSigning, v1.publicKey())).isNotEqualTo(code);
    assertThat(TrustModel.verificationCode(ws, swappedEnvelope, v1.publicKey())).isNotEqualTo(code);
    assertThat(TrustModel.verificationCode(ws, keys, Ed25519KeyPair.generate().publicKey()))
        .as("another workspace key shown to the device")
        .isNotEqualTo(code);
    assertThat(TrustModel.verificationCode(UUID.randomUUID(), keys, v1.publicKey()))
        .isNotEqualTo(code);
    assertThat(TrustModel.verificationCode(ws, keys, v1.publicKey())).isEqualTo(code);
  }

  @Test
  void everyFlippedSignatureByteIsRefused() {
    Signed c = credential(ws, deviceId, 1, v1);
    List<Integer> accepted = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      byte[] sig = c.signature();
      sig[i] ^= 0x01;
      if (trust().isAuthorized(new Signed(c.payload(), sig))) {
        accepted.add(i);
      }
    }
    assertThat(accepted).isEmpty();
  }

  @Test
  void truncatedOversizedAndMalformedSignedObjectsAreRefused() {
    Signed c = credential(ws, deviceId, 1, v1);
    JsonObject good = c.toJson();
    List<JsonObject> bad =
        List.of(
            new JsonObject(),
            good.copy().put("payload", c.payload().substring(0, c.payload().length() - 1)),
            good.copy().put("payload", "{\"a\":1, \"b\":2}"),
            good.copy().put("payload", "[]"),
            good.copy().put("payload", "{\"x\":\"" + "a".repeat(Signed.MAX_PAYLOAD) + "\"}"),
            good.copy().put("payload", "{\"a\":1,\"a\":2}"),
            good.copy().put("signature", good.getString("signature").substring(2)),
            good.copy().put("signature", "zz" + good.getString("signature").substring(2)),
            good.copy().put("extra", 1),
            good.copy().put("payload", 5));
    for (JsonObject b : bad) {
      assertThatThrownBy(() -> Signed.fromJson(b)).isInstanceOf(MalformedInputException.class);
    }
    assertThat(Signed.fromJson(good)).isEqualTo(c);
  }

  @Test
  void aSignedRevocationIsRefusedAtOnceAndAForgedOneIsIgnored() {
    DeviceTrust t = trust();
    Signed c = credential(ws, deviceId, 1, v1);
    assertThat(
            t.revoke(
                Signed.sign(
                    new TrustModel.Revocation(ws, deviceId, "t").fields(),
                    Ed25519KeyPair.generate().privateKey())))
        .isFalse();
    assertThat(t.isAuthorized(c)).isTrue();
    assertThat(
            t.revoke(
                Signed.sign(
                    new TrustModel.Revocation(ws, deviceId, "t").fields(), v1.privateKey())))
        .isTrue();
    assertThat(t.isAuthorized(c)).isFalse();
  }

  @Test
  void theChainIsFollowedFromThePinAndForksOrGapsAreRefused() throws Exception {
    Ed25519KeyPair v2 = Ed25519KeyPair.generate();
    Signed k2 =
        Signed.sign(
            new Keyset(ws, 2, v2.publicKey(), X25519KeyPair.generate().publicKey(), "t").fields(),
            v1.privateKey());
    DeviceTrust t = trust();
    t.update(List.of(k1, k2), List.of());
    assertThat(t.pin().keyset().version()).isEqualTo(2);
    assertThat(t.isAuthorized(credential(ws, deviceId, 1, v1)))
        .as("replayed v1 credential")
        .isFalse();
    assertThat(t.isAuthorized(credential(ws, deviceId, 2, v2))).isTrue();

    Ed25519KeyPair evil = Ed25519KeyPair.generate();
    Signed selfSigned2 =
        Signed.sign(
            new Keyset(ws, 2, evil.publicKey(), X25519KeyPair.generate().publicKey(), "t").fields(),
            evil.privateKey());
    assertThatThrownBy(() -> trust().update(List.of(k1, selfSigned2), List.of()))
        .isInstanceOf(CryptoException.class);
    Signed k3 =
        Signed.sign(
            new Keyset(ws, 3, evil.publicKey(), X25519KeyPair.generate().publicKey(), "t").fields(),
            v1.privateKey());
    assertThatThrownBy(() -> trust().update(List.of(k1, k3), List.of()))
        .as("gap")
        .isInstanceOf(CryptoException.class);
    Signed otherRoot =
        Signed.sign(
            new Keyset(ws, 1, evil.publicKey(), X25519KeyPair.generate().publicKey(), "t").fields(),
            evil.privateKey());
    assertThatThrownBy(() -> trust().update(List.of(otherRoot), List.of()))
        .as("another root")
        .isInstanceOf(CryptoException.class);
    assertThatThrownBy(() -> TrustStore.pinFirst(UUID.randomUUID(), List.of(k1), List.of()))
        .isInstanceOf(CryptoException.class);

    // pinned state survives a restart and re-verifies
    Path dir = Files.createTempDirectory("umbra-trust-pin");
    new TrustStore(dir).save(t.pin());
    DeviceTrust loaded = new TrustStore(dir).load(ws).orElseThrow();
    assertThat(loaded.pin().keyset().version()).isEqualTo(2);
    assertThat(loaded.isAuthorized(credential(ws, deviceId, 2, v2))).isTrue();
    Files.writeString(
        dir.resolve(TrustStore.FILE),
        Files.readString(dir.resolve(TrustStore.FILE))
            .replace("\\\"version\\\":2", "\\\"version\\\":3"));
    assertThatThrownBy(() -> new TrustStore(dir).load(ws))
        .isInstanceOf(MalformedInputException.class);
  }

  // ---- the re-check of live sessions after a revocation and the rotation that follows it ----

  final Ed25519KeyPair v2 = Ed25519KeyPair.generate();
  final Signed k2 =
      Signed.sign(
          new Keyset(ws, 2, v2.publicKey(), X25519KeyPair.generate().publicKey(), "t").fields(),
          v1.privateKey());
  final Ed25519KeyPair otherDevice = Ed25519KeyPair.generate();
  final DeviceKeys otherKeys =
      new DeviceKeys(otherDevice.publicKey(), P256KeyPair.generate().publicKey());
  final UUID otherId = UUID.randomUUID();

  Signed credentialOf(UUID id, DeviceKeys k, int version, Ed25519KeyPair signer) {
    return Signed.sign(
        new Credential(ws, id, version, k, "phone", "cli", "t").fields(), signer.privateKey());
  }

  Signed revocation(UUID id, Ed25519KeyPair signer) {
    return Signed.sign(new TrustModel.Revocation(ws, id, "t").fields(), signer.privateKey());
  }

  @Test
  void
      aRecheckAfterTheRotationKeepsTheDevicesWhoseCredentialsWereReissuedAndEndsOnlyTheRevokedOne() {
    DeviceTrust t = trust();
    Signed yAtOpen = credential(ws, deviceId, 1, v1);
    Signed xAtOpen = credentialOf(otherId, otherKeys, 1, v1);
    assertThat(t.recheck(yAtOpen, device.publicKey())).isEmpty();
    assertThat(t.recheck(xAtOpen, otherDevice.publicKey())).isEmpty();
    // X is revoked, then the keyset rotates and Y's credential is reissued for version 2
    t.update(
        List.of(k1, k2),
        List.of(revocation(otherId, v1)),
        List.of(credential(ws, deviceId, 2, v2)));
    assertThat(t.refusal(yAtOpen))
        .as("the credential from the open is not current any more")
        .isEqualTo("device_not_trusted");
    assertThat(t.recheck(yAtOpen, device.publicKey())).as("Y is still admitted").isEmpty();
    assertThat(t.recheck(xAtOpen, otherDevice.publicKey()))
        .contains(DeviceTrust.Refusal.DEVICE_REVOKED);
    // a credential current at open stays admitted by itself
    assertThat(t.recheck(credential(ws, deviceId, 2, v2), device.publicKey())).isEmpty();
    // a key other than the one proved at open never passes
    assertThat(t.recheck(yAtOpen, Ed25519KeyPair.generate().publicKey()))
        .contains(DeviceTrust.Refusal.CREDENTIAL_KEY_MISMATCH);
  }

  @Test
  void aRecheckEndsADeviceTheRotationLeftOutEvenWithoutItsRevocation() {
    // a control plane withholding X's revocation but serving the rotation (which left X out): the
    // old credential does not keep X admitted
    DeviceTrust t = trust();
    t.update(List.of(k1, k2), List.of(), List.of(credential(ws, deviceId, 2, v2)));
    assertThat(t.recheck(credentialOf(otherId, otherKeys, 1, v1), otherDevice.publicKey()))
        .contains(DeviceTrust.Refusal.DEVICE_NOT_TRUSTED);
    // and a control plane serving no credentials at all ends everyone of the old version (fails
    // closed)
    DeviceTrust none = trust();
    none.update(List.of(k1, k2), List.of());
    assertThat(none.recheck(credential(ws, deviceId, 1, v1), device.publicKey()))
        .contains(DeviceTrust.Refusal.DEVICE_NOT_TRUSTED);
  }

  @Test
  void aHostileControlPlaneCannotReadmitARevokedDeviceOrAdmitANewOneThroughServedCredentials() {
    DeviceTrust t = trust();
    Ed25519KeyPair forger = Ed25519KeyPair.generate();
    Ed25519KeyPair swapped = Ed25519KeyPair.generate();
    DeviceKeys swappedKeys = new DeviceKeys(swapped.publicKey(), keys.envelopeKey());
    t.update(
        List.of(k1, k2),
        List.of(revocation(otherId, v1)),
        List.of(
            credentialOf(
                otherId, otherKeys, 2,
                v2), // X, revoked: signed for v2 (e.g. by a leaked v2 key holder)
            credential(ws, deviceId, 2, forger), // Y's credential signed by a key of its own
            credentialOf(otherId, otherKeys, 1, v1), // an old one
            Signed.sign(
                new Credential(UUID.randomUUID(), deviceId, 2, keys, "x", "cli", "t").fields(),
                v2.privateKey()))); // another workspace
    assertThat(t.pin().current()).as("nothing served was kept").isEmpty();
    assertThat(t.recheck(credentialOf(otherId, otherKeys, 1, v1), otherDevice.publicKey()))
        .contains(DeviceTrust.Refusal.DEVICE_REVOKED);
    assertThat(t.recheck(credential(ws, deviceId, 1, v1), device.publicKey()))
        .contains(DeviceTrust.Refusal.DEVICE_NOT_TRUSTED);
    // a genuine v2 credential of Y's device id naming other keys does not keep the v1 session of
    // Y's keys
    t.update(List.of(), List.of(), List.of(credentialOf(deviceId, swappedKeys, 2, v2)));
    assertThat(t.recheck(credential(ws, deviceId, 1, v1), device.publicKey()))
        .contains(DeviceTrust.Refusal.DEVICE_NOT_TRUSTED);
    // a device never trusted: no credential signed by the workspace key, at any version
    Ed25519KeyPair stranger = Ed25519KeyPair.generate();
    DeviceKeys strangerKeys = new DeviceKeys(stranger.publicKey(), keys.envelopeKey());
    assertThat(
            t.recheck(
                credentialOf(UUID.randomUUID(), strangerKeys, 1, forger), stranger.publicKey()))
        .contains(DeviceTrust.Refusal.DEVICE_NOT_TRUSTED);
    // a revocation arriving after the reissue ends the device at once
    DeviceTrust y = trust();
    y.update(List.of(k1, k2), List.of(), List.of(credential(ws, deviceId, 2, v2)));
    assertThat(y.revoke(revocation(deviceId, v2))).isTrue();
    assertThat(y.recheck(credential(ws, deviceId, 1, v1), device.publicKey()))
        .contains(DeviceTrust.Refusal.DEVICE_REVOKED);
  }

  @Test
  void theReissuedCredentialsArePinnedAndVerifiedAgainWhenLoaded() throws Exception {
    DeviceTrust t = trust();
    t.update(List.of(k1, k2), List.of(), List.of(credential(ws, deviceId, 2, v2)));
    Path dir = Files.createTempDirectory("umbra-trust-pin");
    new TrustStore(dir).save(t.pin());
    DeviceTrust loaded = new TrustStore(dir).load(ws).orElseThrow();
    assertThat(loaded.pin().current()).containsOnlyKeys(deviceId);
    assertThat(loaded.recheck(credential(ws, deviceId, 1, v1), device.publicKey())).isEmpty();
    // an edited credential (its signature no longer verifies) is dropped: the session ends, none is
    // added
    Signed kept = loaded.pin().current().get(deviceId);
    byte[] sig = kept.signature();
    sig[0] ^= 1;
    String text = Files.readString(dir.resolve(TrustStore.FILE));
    String hex = java.util.HexFormat.of().formatHex(kept.signature());
    assertThat(text).contains(hex);
    Files.writeString(
        dir.resolve(TrustStore.FILE), text.replace(hex, java.util.HexFormat.of().formatHex(sig)));
    DeviceTrust edited = new TrustStore(dir).load(ws).orElseThrow();
    assertThat(edited.pin().current()).isEmpty();
    assertThat(edited.recheck(credential(ws, deviceId, 1, v1), device.publicKey()))
        .contains(DeviceTrust.Refusal.DEVICE_NOT_TRUSTED);
  }
}
