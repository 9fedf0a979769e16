package dev.umbra.daemon.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.daemon.trust.TrustModel.Credential;
import dev.umbra.daemon.trust.TrustModel.DeviceKeys;
import dev.umbra.daemon.trust.TrustModel.Keyset;
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
  final Signed k1 = Signed.sign(new Keyset(ws, 1, v1.publicKey(), X25519KeyPair.generate().publicKey(), "t").fields(), v1.privateKey());
  final Ed25519KeyPair device = Ed25519KeyPair.generate();
  final DeviceKeys keys = new DeviceKeys(device.publicKey(), P256KeyPair.generate().publicKey());
  final UUID deviceId = UUID.randomUUID();

  DeviceTrust trust() {
    return TrustStore.pinFirst(ws, List.of(k1), List.of());
  }

  Signed credential(UUID workspace, UUID id, int version, Ed25519KeyPair signer) {
    return Signed.sign(new Credential(workspace, id, version, keys, "laptop", "cli", "t").fields(), signer.privateKey());
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
    assertThat(trust().isAuthorized(credential(ws, deviceId, 1, Ed25519KeyPair.generate()))).isFalse();
    assertThat(trust().isAuthorized(credential(UUID.randomUUID(), deviceId, 1, v1))).as("other workspace").isFalse();
    assertThat(trust().isAuthorized(credential(ws, deviceId, 2, v1))).as("other keyset version").isFalse();
    assertThat(trust().isAuthorized(null)).isFalse();
    Signed wrongType = Signed.sign(new TrustModel.Revocation(ws, deviceId, "t").fields(), v1.privateKey());
    assertThat(trust().isAuthorized(wrongType)).isFalse();
  }

  @Test
  void aServerSubstitutingItsOwnKeyChangesTheVerificationCode() {
    String code = TrustModel.verificationCode(ws, keys, v1.publicKey());
    assertThat(code).matches("[0-9A-Z]{4}(-[0-9A-Z]{4}){3}");
    DeviceKeys swappedSigning = new DeviceKeys(Ed25519KeyPair.generate().publicKey(), keys.envelopeKey());
    DeviceKeys swappedEnvelope = new DeviceKeys(keys.signingKey(), P256KeyPair.generate().publicKey());
    assertThat(TrustModel.verificationCode(ws, swappedSigning, v1.publicKey())).isNotEqualTo(code);
    assertThat(TrustModel.verificationCode(ws, swappedEnvelope, v1.publicKey())).isNotEqualTo(code);
    assertThat(TrustModel.verificationCode(ws, keys, Ed25519KeyPair.generate().publicKey())).as("another workspace key shown to the device").isNotEqualTo(code);
    assertThat(TrustModel.verificationCode(UUID.randomUUID(), keys, v1.publicKey())).isNotEqualTo(code);
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
    List<JsonObject> bad = List.of(
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
    assertThat(t.revoke(Signed.sign(new TrustModel.Revocation(ws, deviceId, "t").fields(), Ed25519KeyPair.generate().privateKey()))).isFalse();
    assertThat(t.isAuthorized(c)).isTrue();
    assertThat(t.revoke(Signed.sign(new TrustModel.Revocation(ws, deviceId, "t").fields(), v1.privateKey()))).isTrue();
    assertThat(t.isAuthorized(c)).isFalse();
  }

  @Test
  void theChainIsFollowedFromThePinAndForksOrGapsAreRefused() throws Exception {
    Ed25519KeyPair v2 = Ed25519KeyPair.generate();
    Signed k2 = Signed.sign(new Keyset(ws, 2, v2.publicKey(), X25519KeyPair.generate().publicKey(), "t").fields(), v1.privateKey());
    DeviceTrust t = trust();
    t.update(List.of(k1, k2), List.of());
    assertThat(t.pin().keyset().version()).isEqualTo(2);
    assertThat(t.isAuthorized(credential(ws, deviceId, 1, v1))).as("replayed v1 credential").isFalse();
    assertThat(t.isAuthorized(credential(ws, deviceId, 2, v2))).isTrue();

    Ed25519KeyPair evil = Ed25519KeyPair.generate();
    Signed selfSigned2 = Signed.sign(new Keyset(ws, 2, evil.publicKey(), X25519KeyPair.generate().publicKey(), "t").fields(), evil.privateKey());
    assertThatThrownBy(() -> trust().update(List.of(k1, selfSigned2), List.of())).isInstanceOf(CryptoException.class);
    Signed k3 = Signed.sign(new Keyset(ws, 3, evil.publicKey(), X25519KeyPair.generate().publicKey(), "t").fields(), v1.privateKey());
    assertThatThrownBy(() -> trust().update(List.of(k1, k3), List.of())).as("gap").isInstanceOf(CryptoException.class);
    Signed otherRoot = Signed.sign(new Keyset(ws, 1, evil.publicKey(), X25519KeyPair.generate().publicKey(), "t").fields(), evil.privateKey());
    assertThatThrownBy(() -> trust().update(List.of(otherRoot), List.of())).as("another root").isInstanceOf(CryptoException.class);
    assertThatThrownBy(() -> TrustStore.pinFirst(UUID.randomUUID(), List.of(k1), List.of())).isInstanceOf(CryptoException.class);

    // pinned state survives a restart and re-verifies
    Path dir = Files.createTempDirectory("umbra-trust-pin");
    new TrustStore(dir).save(t.pin());
    DeviceTrust loaded = new TrustStore(dir).load(ws).orElseThrow();
    assertThat(loaded.pin().keyset().version()).isEqualTo(2);
    assertThat(loaded.isAuthorized(credential(ws, deviceId, 2, v2))).isTrue();
    Files.writeString(dir.resolve(TrustStore.FILE), Files.readString(dir.resolve(TrustStore.FILE)).replace("\\\"version\\\":2", "\\\"version\\\":3"));
    assertThatThrownBy(() -> new TrustStore(dir).load(ws)).isInstanceOf(MalformedInputException.class);
  }
}
