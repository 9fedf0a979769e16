package dev.umbra.crypto.conformance;

import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519PrivateKey;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.P256PrivateKey;
import dev.umbra.crypto.sign.TrustPayloadTypes;
import dev.umbra.crypto.sign.VerificationCodes;
import dev.umbra.crypto.testing.Hex;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * {@code device-trust.json} (docs/device-trust.md): a device's signed trust request ({@code
 * umbra-device-request/v1}, as a browser sends it) and the verification code of its keys ({@code
 * umbra-device-keys/v1} with the workspace's root signing key), so a browser or any other client
 * can check it builds, signs and codes exactly as the CLI and the control plane do.
 */
final class DeviceTrustVectors {
  private DeviceTrustVectors() {}

  static List<Map<String, Object>> generate(Function<String, String> uuid) {
    return List.of(
        vector("device-trust-1", "browser", uuid),
        vector("device-trust-2", "<b>Zoë's</b> \"laptop\" ☂", uuid));
  }

  private static Map<String, Object> vector(
      String label, String name, Function<String, String> uuid) {
    byte[] seed = ConformanceVectorGenerator.bytes(label + "/device-key", 32);
    Ed25519PrivateKey device = Ed25519PrivateKey.fromBytes(seed);
    Map<String, Object> f = new TreeMap<>();
    f.put("type", TrustPayloadTypes.DEVICE_REQUEST);
    f.put("workspace_id", uuid.apply(label + "/workspace"));
    f.put("device_id", uuid.apply(label + "/device"));
    f.put("ed25519_public_key", device.publicKey().toHex());
    f.put("p256_public_key", p256(label + "/p256"));
    f.put("name", name);
    f.put("kind", "browser");
    f.put("timestamp_ms", 1796119200000L);
    String payload = CanonicalJson.encodeToString(f);
    Map<String, Object> tampered = new TreeMap<>(f);
    tampered.put("p256_public_key", p256(label + "/substitute"));
    String root =
        Ed25519PrivateKey.fromBytes(ConformanceVectorGenerator.bytes(label + "/workspace-key", 32))
            .publicKey()
            .toHex();
    Map<String, Object> code = new TreeMap<>();
    code.put("type", TrustPayloadTypes.DEVICE_KEYS);
    code.put("workspace_id", f.get("workspace_id"));
    code.put("workspace_signing_key", root);
    code.put("ed25519_public_key", f.get("ed25519_public_key"));
    code.put("p256_public_key", f.get("p256_public_key"));
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("document", f);
    v.put("payload", payload);
    v.put("device_private_key", Hex.e(seed));
    v.put("device_public_key", device.publicKey().toHex());
    v.put("signature", Hex.e(device.sign(payload.getBytes(StandardCharsets.UTF_8))));
    v.put("tampered_payload", CanonicalJson.encodeToString(tampered));
    v.put("workspace_signing_key", root);
    v.put("code_document", code);
    v.put("code_canonical", CanonicalJson.encodeToString(code));
    v.put("code", VerificationCodes.derive(code));
    return v;
  }

  private static String p256(String label) {
    return P256KeyPair.fromPrivateKey(
            P256PrivateKey.fromBytes(ConformanceVectorGenerator.bytes(label, 32)))
        .publicKey()
        .toHex();
  }
}
