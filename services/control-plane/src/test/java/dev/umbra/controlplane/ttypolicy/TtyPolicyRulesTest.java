package dev.umbra.controlplane.ttypolicy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** What a WebTTY policy document must be and who may sign it, decided without storage. */
class TtyPolicyRulesTest {
  final UUID wid = UUID.randomUUID();
  final UUID mid = UUID.randomUUID();
  final UUID signer = UUID.randomUUID();
  final Instant now = Instant.parse("2026-12-04T12:00:00Z");
  static final String SIG = "ab".repeat(64);

  Map<String, Object> fields() {
    Map<String, Object> f = new TreeMap<>();
    f.put("type", TtyPolicyDocument.TYPE);
    f.put("workspace_id", wid.toString());
    f.put("machine_id", mid.toString());
    f.put("version", 2L);
    f.put("recording", true);
    f.put("join", "members");
    f.put("record_stdin", false);
    f.put("issued_at", now.toString());
    f.put("signer_device_id", signer.toString());
    return f;
  }

  JsonObject body(Map<String, Object> fields, String signature) {
    JsonObject policy = new JsonObject().put("payload", CanonicalJson.encodeToString(fields));
    if (signature != null) {
      policy.put("signature", signature);
    }
    return new JsonObject().put("policy", policy);
  }

  TtyPolicyDocument parse(Map<String, Object> fields, String signature) {
    return TtyPolicyDocument.parse(body(fields, signature), wid, mid, now);
  }

  void refused(Map<String, Object> fields, String signature, String message) {
    assertThatThrownBy(() -> parse(fields, signature))
        .isInstanceOfSatisfying(
            Refusal.Invalid.class,
            r -> {
              assertThat(r.field()).isEqualTo("policy");
              assertThat(r.getMessage()).isEqualTo(message);
            });
  }

  static Map<String, Object> reviewer() {
    return Map.of(
        "device_id",
        UUID.randomUUID().toString(),
        "webtty_key",
        Map.of("payload", "{}", "signature", "00"));
  }

  @Test
  void aSignedDocumentNamingItsSignerIsRead() {
    TtyPolicyDocument d = parse(fields(), SIG);
    assertThat(d.version()).isEqualTo(2);
    assertThat(d.join()).isEqualTo("members");
    assertThat(d.recording()).isTrue();
    assertThat(d.recordStdin()).isFalse();
    assertThat(d.signer()).isEqualTo(signer);
  }

  @Test
  void reviewersAreOneToSixteenDeviceKeyPairsOfASignedDocument() {
    Map<String, Object> f = fields();
    f.put("reviewers", List.of(reviewer(), reviewer()));
    assertThat(parse(f, SIG).signer()).isEqualTo(signer);

    String rule =
        "policy.payload.reviewers must be 1 to 16 {device_id, webtty_key} entries of a signed policy";
    f.put("reviewers", List.of());
    refused(f, SIG, rule);
    f.put("reviewers", java.util.Collections.nCopies(17, reviewer()));
    refused(f, SIG, rule);
    f.put("reviewers", List.of(Map.of("device_id", "x")));
    refused(f, SIG, rule);
    f.put("reviewers", List.of(Map.of("device_id", "x", "webtty_key", "not an object")));
    refused(f, SIG, rule);

    Map<String, Object> unsigned = fields();
    unsigned.remove("signer_device_id");
    unsigned.put("reviewers", List.of(reviewer()));
    refused(unsigned, null, rule);
  }

  @Test
  void aSignerIsNamedExactlyWhenTheDocumentIsSigned() {
    refused(
        fields(), null, "a signed policy names its signer_device_id; an unsigned one names none");
    Map<String, Object> f = fields();
    f.put("signer_device_id", signer.toString().toUpperCase());
    refused(f, SIG, "policy.payload.signer_device_id must be a lowercase UUID");
  }

  @Test
  void theDocumentMustBeFreshAndAboutThisMachine() {
    Map<String, Object> f = fields();
    f.put("issued_at", now.minusSeconds(11 * 60).toString());
    refused(f, SIG, "policy.payload.issued_at is too far from the server's clock");
    f = fields();
    f.put("machine_id", UUID.randomUUID().toString());
    refused(f, SIG, "policy.payload names another workspace or machine");
    f = fields();
    f.put("version", 0L);
    refused(f, SIG, "policy.payload.version must be a positive integer");
  }

  @Test
  void aSignerIsTrustedOnlyWhenItIsTheCallersTrustedDeviceUnderTheCurrentKey() {
    Ed25519KeyPair workspace = Ed25519KeyPair.generate();
    Ed25519KeyPair device = Ed25519KeyPair.generate();
    UUID caller = UUID.randomUUID();
    byte[] key = device.publicKey().toBytes();
    String cred =
        CanonicalJson.encodeToString(Map.of("ed25519_public_key", HexFormat.of().formatHex(key)));
    byte[] credSig = workspace.privateKey().sign(cred.getBytes(StandardCharsets.UTF_8));

    assertThat(
            TtyPolicyService.trustedDeviceOf(
                new SignerDevice(caller, "trusted", key, cred, credSig),
                caller,
                workspace.publicKey()))
        .isTrue();
    assertThat(TtyPolicyService.trustedDeviceOf(null, caller, workspace.publicKey())).isFalse();
    assertThat(
            TtyPolicyService.trustedDeviceOf(
                new SignerDevice(UUID.randomUUID(), "trusted", key, cred, credSig),
                caller,
                workspace.publicKey()))
        .as("another account's device")
        .isFalse();
    assertThat(
            TtyPolicyService.trustedDeviceOf(
                new SignerDevice(caller, "pending", key, cred, credSig),
                caller,
                workspace.publicKey()))
        .isFalse();
    assertThat(
            TtyPolicyService.trustedDeviceOf(
                new SignerDevice(caller, "trusted", key, cred, credSig),
                caller,
                Ed25519KeyPair.generate().publicKey()))
        .as("a credential of an earlier keyset")
        .isFalse();
    byte[] otherKey = Ed25519KeyPair.generate().publicKey().toBytes();
    assertThat(
            TtyPolicyService.trustedDeviceOf(
                new SignerDevice(caller, "trusted", otherKey, cred, credSig),
                caller,
                workspace.publicKey()))
        .as("a credential naming another key")
        .isFalse();
  }
}
