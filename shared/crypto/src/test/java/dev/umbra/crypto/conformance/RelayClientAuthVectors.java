package dev.umbra.crypto.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519PrivateKey;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.P256PrivateKey;
import dev.umbra.crypto.keys.X25519PrivateKey;
import dev.umbra.crypto.sign.TrustPayloadTypes;
import dev.umbra.crypto.testing.Hex;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code relay-client-auth.json} (docs/relay.md, "Message 1"): the payload of Noise message 1 of a
 * relay channel ({@code umbra-relay-client-auth/v2}) with its time, without and with a device's
 * proof (Workspace Protection), and the static-key binding the device signs, so another client (the
 * browser's, a Go one) produces exactly the bytes the daemon admits. The encoding is spelled out
 * here with canonical JSON; clients/core's {@code HandshakePayloadTest} replays the file with the
 * client's and daemon's own code.
 */
final class RelayClientAuthVectors {
  static final String TYPE = "umbra-relay-client-auth/v2";
  static final String STATIC_TYPE = "umbra-relay-client-static/v1";

  private RelayClientAuthVectors() {}

  static List<Map<String, Object>> generate() {
    return List.of(
        vector("relay-client-auth-1", 1_796_119_200_000L, false),
        vector("relay-client-auth-2", 1_796_119_200_123L, true));
  }

  private static Map<String, Object> vector(String label, long time, boolean withProof) {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("time", time);
    Map<String, Object> payload = new TreeMap<>();
    payload.put("type", TYPE);
    payload.put("time", time);
    if (withProof) {
      String workspace = ConformanceVectorGenerator.uuid(label + "/workspace");
      String target = ConformanceVectorGenerator.uuid(label + "/target");
      byte[] deviceSeed = ConformanceVectorGenerator.bytes(label + "/device-key", 32);
      Ed25519PrivateKey device = Ed25519PrivateKey.fromBytes(deviceSeed);
      Ed25519PrivateKey workspaceKey =
          Ed25519PrivateKey.fromBytes(
              ConformanceVectorGenerator.bytes(label + "/workspace-key", 32));
      String noiseStatic =
          X25519PrivateKey.fromBytes(ConformanceVectorGenerator.bytes(label + "/noise-static", 32))
              .publicKey()
              .toHex();
      String credential = credential(label, workspace, device.publicKey());
      String binding = binding(workspace, target, noiseStatic);
      Map<String, Object> signed = new LinkedHashMap<>();
      signed.put("payload", credential);
      signed.put(
          "signature", Hex.e(workspaceKey.sign(credential.getBytes(StandardCharsets.UTF_8))));
      String staticKeySignature = Hex.e(device.sign(binding.getBytes(StandardCharsets.UTF_8)));
      v.put("workspace_id", workspace);
      v.put("target_id", target);
      v.put("noise_static_key", noiseStatic);
      v.put("device_private_key", Hex.e(deviceSeed));
      v.put("device_public_key", device.publicKey().toHex());
      v.put("workspace_public_key", workspaceKey.publicKey().toHex());
      v.put("credential", signed);
      v.put("static_binding", binding);
      v.put("static_key_signature", staticKeySignature);
      payload.put("credential", signed);
      payload.put("static_key_signature", staticKeySignature);
    }
    v.put("payload", CanonicalJson.encodeToString(payload));
    return v;
  }

  /** A device credential as the workspace key signs it (docs/device-trust.md). */
  private static String credential(String label, String workspace, Ed25519PublicKey device) {
    Map<String, Object> c = new TreeMap<>();
    c.put("type", TrustPayloadTypes.DEVICE_CREDENTIAL);
    c.put("workspace_id", workspace);
    c.put("device_id", ConformanceVectorGenerator.uuid(label + "/device"));
    c.put("keyset_version", 1L);
    c.put("ed25519_public_key", device.toHex());
    c.put(
        "p256_public_key",
        P256PrivateKey.fromBytes(ConformanceVectorGenerator.bytes(label + "/p256", 32))
            .publicKey()
            .toHex());
    c.put("name", "laptop");
    c.put("kind", "cli");
    c.put("issued_at", "2026-12-06T10:00:00Z");
    return CanonicalJson.encodeToString(c);
  }

  private static String binding(String workspace, String target, String noiseStatic) {
    Map<String, Object> b = new TreeMap<>();
    b.put("type", STATIC_TYPE);
    b.put("workspace_id", workspace);
    b.put("target_id", target);
    b.put("noise_static_key", noiseStatic);
    return CanonicalJson.encodeToString(b);
  }

  static List<String> replay(JsonNode v) {
    List<String> failures = new ArrayList<>();
    long time = v.get("time").asLong();
    String payload = v.get("payload").asText();
    Map<String, Object> expected = new TreeMap<>();
    expected.put("type", TYPE);
    expected.put("time", time);
    if (v.has("credential")) {
      String binding =
          binding(
              v.get("workspace_id").asText(),
              v.get("target_id").asText(),
              v.get("noise_static_key").asText());
      if (!binding.equals(v.get("static_binding").asText())) {
        failures.add(time + ": static_binding differs");
      }
      Ed25519PrivateKey device =
          Ed25519PrivateKey.fromBytes(Hex.d(v.get("device_private_key").asText()));
      String signature = Hex.e(device.sign(binding.getBytes(StandardCharsets.UTF_8)));
      if (!signature.equals(v.get("static_key_signature").asText())) {
        failures.add(time + ": static_key_signature differs");
      }
      Map<String, Object> signed = new LinkedHashMap<>();
      signed.put("payload", v.get("credential").get("payload").asText());
      signed.put("signature", v.get("credential").get("signature").asText());
      Ed25519PublicKey.fromHex(v.get("workspace_public_key").asText())
          .verify(
              v.get("credential").get("payload").asText().getBytes(StandardCharsets.UTF_8),
              Hex.d(v.get("credential").get("signature").asText()));
      expected.put("credential", signed);
      expected.put("static_key_signature", signature);
    }
    if (!CanonicalJson.encodeToString(expected).equals(payload)) {
      failures.add(time + ": payload differs");
    }
    return failures;
  }
}
