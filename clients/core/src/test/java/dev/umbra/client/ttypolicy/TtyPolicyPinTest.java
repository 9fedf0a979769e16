package dev.umbra.client.ttypolicy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.client.trust.TrustStore;
import dev.umbra.client.ttypolicy.TtyPolicy.Join;
import dev.umbra.client.ttypolicy.TtyPolicyPin.Document;
import dev.umbra.client.ttypolicy.TtyPolicyPin.Refusal;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.proto.webtty.JoinPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The daemon's verification of the WebTTY policy the control plane serves (docs/webtty.md, "Server
 * policy"): under Workspace Protection only a document signed by a device the pinned workspace key
 * vouches for counts; bad signatures, unknown and revoked signers, rollbacks and reused versions
 * are refused and the held policy stays; a held policy whose signer was revoked later gives way to
 * the strictest one; the local override only tightens.
 */
class TtyPolicyPinTest {
  final UUID ws = UUID.randomUUID();
  final UUID machine = UUID.randomUUID();
  final Ed25519KeyPair workspaceKey = Ed25519KeyPair.generate();
  final Signed keyset =
      Signed.sign(
          new TrustModel.Keyset(
                  ws, 1, workspaceKey.publicKey(), X25519KeyPair.generate().publicKey(), "t")
              .fields(),
          workspaceKey.privateKey());
  final Ed25519KeyPair adminDevice = Ed25519KeyPair.generate();
  final UUID adminDeviceId = UUID.randomUUID();
  final Ed25519KeyPair otherDevice = Ed25519KeyPair.generate();
  final UUID otherDeviceId = UUID.randomUUID();
  final Path dir;

  TtyPolicyPinTest() throws Exception {
    dir =
        Files.createTempDirectory(
            "tty-policy",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
  }

  Signed credential(UUID id, Ed25519KeyPair device, Ed25519KeyPair signer) {
    return Signed.sign(
        new TrustModel.Credential(
                ws,
                id,
                1,
                new TrustModel.DeviceKeys(device.publicKey(), P256KeyPair.generate().publicKey()),
                "laptop",
                "cli",
                "t")
            .fields(),
        signer.privateKey());
  }

  /** The pin after a trust sync that served both devices' credentials of the current version. */
  DeviceTrust trust() {
    return TrustStore.pinFirst(
        ws,
        List.of(keyset),
        List.of(),
        List.of(
            credential(adminDeviceId, adminDevice, workspaceKey),
            credential(otherDeviceId, otherDevice, workspaceKey)));
  }

  TtyPolicy policy(long version, boolean recording, Join join, boolean stdin, UUID signer) {
    return new TtyPolicy(
        ws, machine, version, recording, join, stdin, "2026-12-04T16:00:00Z", signer);
  }

  Document signed(TtyPolicy p, Ed25519KeyPair key) {
    Signed s = Signed.sign(p.fields(), key.privateKey());
    return new Document(s.payload(), s.signature());
  }

  TtyPolicyPin pin() {
    return new TtyPolicyPin(dir, ws, machine);
  }

  @Test
  void aPolicySignedByATrustedDeviceIsAppliedAndKept() {
    DeviceTrust t = trust();
    TtyPolicyPin.State s =
        pin()
            .apply(
                Optional.of(
                    signed(policy(1, false, Join.NOBODY, false, adminDeviceId), adminDevice)),
                Optional.of(t));
    assertThat(s.servedRefused()).isEmpty();
    assertThat(s.policy().toProto().getRecording()).isFalse();
    assertThat(s.policy().toProto().getJoin()).isEqualTo(JoinPolicy.JOIN_POLICY_NOBODY);
    assertThat(s.policy().toProto().getRecordStdin()).isFalse();
    // a later run that reaches no control plane applies the held document
    assertThat(pin().apply(Optional.empty(), Optional.of(t)).policy()).isEqualTo(s.policy());
    assertThat(Files.exists(dir.resolve(TtyPolicyPin.FILE))).isTrue();
  }

  @Test
  void
      badSignatureUnknownSignerRevokedSignerRollbackAndReusedVersionAreRefusedAndTheHeldPolicyStays() {
    DeviceTrust t = trust();
    TtyPolicy v2 = policy(2, true, Join.ADMINS, true, adminDeviceId);
    assertThat(pin().apply(Optional.of(signed(v2, adminDevice)), Optional.of(t)).servedRefused())
        .isEmpty();

    // a signature by another key than the signer's credential names
    Document forged =
        signed(policy(3, false, Join.MEMBERS, false, adminDeviceId), Ed25519KeyPair.generate());
    // flipped signature byte
    Document good3 = signed(policy(3, false, Join.MEMBERS, false, adminDeviceId), adminDevice);
    byte[] flipped = good3.signature();
    flipped[5] ^= 1;
    // a device the workspace key never signed (the control plane's own)
    UUID strangerId = UUID.randomUUID();
    Document unknown =
        signed(policy(3, false, Join.MEMBERS, false, strangerId), Ed25519KeyPair.generate());
    // a device with a credential signed by another key than the pinned workspace key
    Ed25519KeyPair impostor = Ed25519KeyPair.generate();
    DeviceTrust withForgedCredential =
        TrustStore.pinFirst(
            ws,
            List.of(keyset),
            List.of(),
            List.of(
                credential(adminDeviceId, adminDevice, workspaceKey),
                credential(strangerId, impostor, Ed25519KeyPair.generate())));
    Document byImpostor = signed(policy(3, false, Join.MEMBERS, false, strangerId), impostor);
    // rolled back: a genuine older document
    Document v1 = signed(policy(1, false, Join.MEMBERS, false, adminDeviceId), adminDevice);
    // same version, other content
    Document reused = signed(policy(2, false, Join.MEMBERS, false, adminDeviceId), adminDevice);
    // another machine's policy
    Document otherMachine =
        signed(
            new TtyPolicy(ws, UUID.randomUUID(), 3, false, Join.MEMBERS, false, "t", adminDeviceId),
            adminDevice);
    // unsigned, under Workspace Protection
    Document unsigned = new Document(policy(3, false, Join.MEMBERS, false, null).canonical(), null);

    assertThat(pin().apply(Optional.of(forged), Optional.of(t)).servedRefused())
        .contains(Refusal.BAD_SIGNATURE);
    assertThat(
            pin()
                .apply(Optional.of(new Document(good3.payload(), flipped)), Optional.of(t))
                .servedRefused())
        .contains(Refusal.BAD_SIGNATURE);
    assertThat(pin().apply(Optional.of(unknown), Optional.of(t)).servedRefused())
        .contains(Refusal.UNKNOWN_SIGNER);
    assertThat(
            pin().apply(Optional.of(byImpostor), Optional.of(withForgedCredential)).servedRefused())
        .contains(Refusal.UNKNOWN_SIGNER);
    assertThat(pin().apply(Optional.of(v1), Optional.of(t)).servedRefused())
        .contains(Refusal.ROLLED_BACK);
    assertThat(pin().apply(Optional.of(reused), Optional.of(t)).servedRefused())
        .contains(Refusal.VERSION_REUSED);
    assertThat(pin().apply(Optional.of(otherMachine), Optional.of(t)).servedRefused())
        .contains(Refusal.WRONG_MACHINE);
    assertThat(pin().apply(Optional.of(unsigned), Optional.of(t)).servedRefused())
        .contains(Refusal.UNSIGNED_UNDER_PROTECTION);

    DeviceTrust revokedOther = trust();
    revokedOther.revoke(
        Signed.sign(
            new TrustModel.Revocation(ws, otherDeviceId, "t").fields(), workspaceKey.privateKey()));
    Document byRevoked = signed(policy(3, false, Join.MEMBERS, false, otherDeviceId), otherDevice);
    assertThat(pin().apply(Optional.of(byRevoked), Optional.of(revokedOther)).servedRefused())
        .contains(Refusal.SIGNER_REVOKED);

    // after all of these the held v2 still applies
    TtyPolicyPin.State s = pin().apply(Optional.empty(), Optional.of(t));
    assertThat(s.policy()).isEqualTo(v2);
    // and a genuine newer one is taken
    assertThat(pin().apply(Optional.of(good3), Optional.of(t)).policy().version()).isEqualTo(3);
  }

  @Test
  void whenTheSignerOfTheHeldPolicyIsRevokedTheStrictestPolicyAppliesUntilANewerOneArrives() {
    DeviceTrust t = trust();
    pin()
        .apply(
            Optional.of(signed(policy(4, true, Join.MEMBERS, true, otherDeviceId), otherDevice)),
            Optional.of(t));
    t.revoke(
        Signed.sign(
            new TrustModel.Revocation(ws, otherDeviceId, "t").fields(), workspaceKey.privateKey()));
    TtyPolicyPin.State s = pin().apply(Optional.empty(), Optional.of(t));
    assertThat(s.heldInvalid()).contains(Refusal.SIGNER_REVOKED);
    assertThat(s.policy()).isEqualTo(TtyPolicy.strictest(ws, machine));
    assertThat(s.describe()).contains("strictest").contains("signer_revoked");
    // its version still bounds what comes next: an older genuine document is a rollback
    assertThat(
            pin()
                .apply(
                    Optional.of(
                        signed(policy(3, true, Join.MEMBERS, true, adminDeviceId), adminDevice)),
                    Optional.of(t))
                .servedRefused())
        .contains(Refusal.ROLLED_BACK);
    TtyPolicyPin.State next =
        pin()
            .apply(
                Optional.of(signed(policy(5, true, Join.ADMINS, true, adminDeviceId), adminDevice)),
                Optional.of(t));
    assertThat(next.heldInvalid()).isEmpty();
    assertThat(next.policy().join()).isEqualTo(Join.ADMINS);
  }

  @Test
  void withoutWorkspaceProtectionOnlyAnUnsignedPolicyIsAcceptedAndNoneMeansTheBuiltInDefault() {
    assertThat(pin().apply(Optional.empty(), Optional.empty()).policy())
        .isEqualTo(TtyPolicy.builtInDefault(ws, machine));
    Document signedWithoutPin =
        signed(policy(1, false, Join.NOBODY, false, adminDeviceId), adminDevice);
    assertThat(pin().apply(Optional.of(signedWithoutPin), Optional.empty()).servedRefused())
        .contains(Refusal.NO_PINNED_TRUST);
    Document unsigned = new Document(policy(1, false, Join.NOBODY, true, null).canonical(), null);
    TtyPolicyPin.State s = pin().apply(Optional.of(unsigned), Optional.empty());
    assertThat(s.servedRefused()).isEmpty();
    assertThat(s.policy().recording()).isFalse();
    // once the workspace is protected and pinned, the unsigned policy no longer counts: strictest
    // until an admin signs one
    TtyPolicyPin.State protectedNow = pin().apply(Optional.empty(), Optional.of(trust()));
    assertThat(protectedNow.heldInvalid()).contains(Refusal.UNSIGNED_UNDER_PROTECTION);
    assertThat(protectedNow.policy()).isEqualTo(TtyPolicy.strictest(ws, machine));
  }

  @Test
  void aHeldFileEditedByHandFailsClosed() throws Exception {
    pin()
        .apply(
            Optional.of(signed(policy(1, true, Join.MEMBERS, true, adminDeviceId), adminDevice)),
            Optional.of(trust()));
    Path f = dir.resolve(TtyPolicyPin.FILE);
    Files.writeString(
        f,
        Files.readString(f)
            .replace("\\\"join\\\":\\\"members\\\"", "\\\"join\\\":\\\"members\\\" "));
    TtyPolicyPin.State s = pin().apply(Optional.empty(), Optional.of(trust()));
    assertThat(s.policy()).isEqualTo(TtyPolicy.strictest(ws, machine));
  }

  @Test
  void theLocalOverrideOnlyMakesThePolicyStricter() {
    TtyPolicy open = policy(1, true, Join.MEMBERS, true, adminDeviceId);
    TtyPolicy closed = policy(1, false, Join.NOBODY, false, adminDeviceId);
    LocalOverride strict =
        LocalOverride.fromEnv(
            Map.of(
                "UMBRA_TTY_RECORDING",
                "false",
                "UMBRA_TTY_JOIN",
                "admins",
                "UMBRA_TTY_RECORD_STDIN",
                "off"));
    LocalOverride lax =
        LocalOverride.fromEnv(
            Map.of(
                "UMBRA_TTY_RECORDING",
                "true",
                "UMBRA_TTY_JOIN",
                "members",
                "UMBRA_TTY_RECORD_STDIN",
                "on"));
    assertThat(open.tightenedBy(strict))
        .extracting(TtyPolicy::recording, TtyPolicy::join, TtyPolicy::recordStdin)
        .containsExactly(false, Join.ADMINS, false);
    assertThat(closed.tightenedBy(lax)).isEqualTo(closed);
    assertThat(open.tightenedBy(LocalOverride.none())).isEqualTo(open);
    assertThat(open.tightenedBy(LocalOverride.fromEnv(Map.of()))).isEqualTo(open);
    LocalOverride typo =
        LocalOverride.fromEnv(Map.of("UMBRA_TTY_JOIN", "everyone", "UMBRA_TTY_RECORDING", "maybe"));
    assertThat(typo.problems()).hasSize(2);
    assertThat(open.tightenedBy(typo))
        .extracting(TtyPolicy::recording, TtyPolicy::join)
        .containsExactly(false, Join.NOBODY);
  }

  @Test
  void theDocumentParserRefusesAnythingButTheExactCanonicalSchema() {
    TtyPolicy p = policy(1, true, Join.MEMBERS, true, adminDeviceId);
    assertThat(TtyPolicy.parse(p.canonical())).isEqualTo(p);
    String c = p.canonical();
    for (String bad :
        List.of(
            c.replace("{", "{ "),
            c.replace("\"join\":\"members\"", "\"join\":\"everyone\""),
            c.replace("\"version\":1", "\"version\":0"),
            c.replace("\"recording\":true", "\"recording\":1"),
            c.replace("umbra-webtty-policy/v1", "umbra-webtty-policy/v2"),
            c.replace("}", ",\"extra\":1}"),
            "[]",
            "")) {
      assertThat(pin().verify(new Document(bad.isEmpty() ? "x" : bad, null), Optional.empty()))
          .as(bad)
          .contains(Refusal.MALFORMED);
    }
  }

  @Test
  void thePublishedConformanceVectorsParseAndVerifyWithTheDaemonsOwnCode() throws Exception {
    io.vertx.core.json.JsonArray vectors =
        dev.umbra.client.testing.ConformanceVectors.of("webtty-policy.json");
    assertThat(vectors).isNotEmpty();
    for (Object o : vectors) {
      io.vertx.core.json.JsonObject v = (io.vertx.core.json.JsonObject) o;
      TtyPolicy p = TtyPolicy.parse(v.getString("payload"));
      assertThat(p.canonical()).isEqualTo(v.getString("payload"));
      assertThat(p.join().wire()).isEqualTo(v.getJsonObject("document").getString("join"));
      if (v.containsKey("signature")) {
        Signed signed =
            new Signed(
                v.getString("payload"),
                java.util.HexFormat.of().parseHex(v.getString("signature")));
        dev.umbra.crypto.keys.Ed25519PublicKey key =
            dev.umbra.crypto.keys.Ed25519PublicKey.fromHex(v.getString("signer_public_key"));
        assertThat(signed.verifies(key)).isTrue();
        assertThat(new Signed(v.getString("tampered_payload"), signed.signature()).verifies(key))
            .isFalse();
      } else {
        assertThat(p.signerDeviceId()).isNull();
      }
    }
  }

  /** {@code device}'s WebTTY key binding, signed by {@code signer}. */
  Signed binding(UUID device, X25519KeyPair key, Ed25519KeyPair signer) {
    return Signed.sign(
        new TrustModel.DeviceWebTtyKey(ws, device, key.publicKey(), "2026-12-04T16:00:00Z")
            .fields(),
        signer.privateKey());
  }

  TtyPolicy withReviewers(long version, List<TtyPolicy.Reviewer> reviewers) {
    return new TtyPolicy(
        ws,
        machine,
        version,
        true,
        Join.MEMBERS,
        true,
        "2026-12-04T16:00:00Z",
        adminDeviceId,
        reviewers);
  }

  @Test
  void aReviewerThePinVouchesForIsAppliedAndOneItDoesNotIsRefused() {
    DeviceTrust t = trust();
    X25519KeyPair reviewerKey = X25519KeyPair.generate();
    TtyPolicy.Reviewer genuine =
        new TtyPolicy.Reviewer(otherDeviceId, binding(otherDeviceId, reviewerKey, otherDevice));
    TtyPolicyPin.State s =
        pin()
            .apply(
                Optional.of(signed(withReviewers(1, List.of(genuine)), adminDevice)),
                Optional.of(t));
    assertThat(s.servedRefused()).isEmpty();
    assertThat(s.policy().reviewerKeys()).containsExactly(reviewerKey.publicKey());
    assertThat(TtyPolicy.parse(s.policy().canonical()).canonical())
        .isEqualTo(s.policy().canonical());

    // the admin's device signed the policy, but the binding is not signed by the reviewer's device
    // (the control plane's substitute key), or names a device the workspace key never signed
    TtyPolicy.Reviewer substituted =
        new TtyPolicy.Reviewer(
            otherDeviceId,
            binding(otherDeviceId, X25519KeyPair.generate(), Ed25519KeyPair.generate()));
    UUID stranger = UUID.randomUUID();
    Ed25519KeyPair strangerKey = Ed25519KeyPair.generate();
    TtyPolicy.Reviewer unknown =
        new TtyPolicy.Reviewer(stranger, binding(stranger, X25519KeyPair.generate(), strangerKey));
    assertThat(
            pin()
                .apply(
                    Optional.of(signed(withReviewers(2, List.of(substituted)), adminDevice)),
                    Optional.of(t))
                .servedRefused())
        .contains(Refusal.UNVOUCHED_REVIEWER);
    assertThat(
            pin()
                .apply(
                    Optional.of(signed(withReviewers(2, List.of(unknown)), adminDevice)),
                    Optional.of(t))
                .servedRefused())
        .contains(Refusal.UNVOUCHED_REVIEWER);
    // the held policy (with the genuine reviewer) stays
    assertThat(pin().apply(Optional.empty(), Optional.of(t)).policy().reviewerKeys())
        .containsExactly(reviewerKey.publicKey());
    // the reviewer's device left out of the trust since (a revocation rotates the keyset without
    // it):
    // the held policy no longer verifies, the strictest applies until an admin re-signs
    DeviceTrust revoked =
        TrustStore.pinFirst(
            ws,
            List.of(keyset),
            List.of(),
            List.of(credential(adminDeviceId, adminDevice, workspaceKey)));
    TtyPolicyPin.State after = pin().apply(Optional.empty(), Optional.of(revoked));
    assertThat(after.heldInvalid()).contains(Refusal.UNVOUCHED_REVIEWER);
    assertThat(after.policy().reviewers()).isEmpty();
    // without a pin nothing vouches for a reviewer
    assertThat(
            new TtyPolicyPin(dir.resolve("x"), ws, machine)
                .verify(
                    new Document(
                        new TtyPolicy(
                                ws,
                                machine,
                                1,
                                true,
                                Join.MEMBERS,
                                true,
                                "t",
                                null,
                                List.of(genuine))
                            .canonical(),
                        null),
                    Optional.empty()))
        .contains(Refusal.UNVOUCHED_REVIEWER);
  }
}
