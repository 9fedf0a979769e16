package dev.umbra.crypto.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.secret.MeshProofs;
import dev.umbra.crypto.testing.Hex;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code relay-mesh-proof.json} (docs/relay.md, "Mesh link authentication"): the key a relay
 * instance derives from the internal credential, the MAC input and MAC of a mesh link proof, and
 * the {@code X-Umbra-Mesh-Proof} header carrying it, so another implementation of a relay instance
 * can dial and accept Umbra's.
 */
final class RelayMeshProofVectors {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private RelayMeshProofVectors() {}

  static List<Map<String, Object>> generate() {
    return List.of(
        vector("relay-mesh-proof-1", "01JRELAYDIALLER00000000000", "01JRELAYTARGET000000000000"),
        vector("relay-mesh-proof-2", "relay-a", "relay-b"));
  }

  private static Map<String, Object> vector(String label, String dialler, String target) {
    String credential = B64.encodeToString(ConformanceVectorGenerator.bytes(label + "/cred", 32));
    byte[] nonce =
        ConformanceVectorGenerator.bytes(label + "/nonce", CryptoConstants.RELAY_MESH_NONCE_LENGTH);
    long seconds = 1796119200L;
    byte[] key = MeshProofs.key(credential);
    byte[] mac = MeshProofs.mac(key, dialler, target, seconds, nonce);
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("internal_credential", credential);
    v.put("dialler", dialler);
    v.put("target", target);
    v.put("unix_seconds", seconds);
    v.put("nonce", Hex.e(nonce));
    v.put("mesh_key", Hex.e(key));
    v.put("mac_input", Hex.e(macInput(dialler, target, seconds, nonce)));
    v.put("mac", Hex.e(mac));
    v.put("header", header(target, seconds, nonce, mac));
    return v;
  }

  /** Spelled out here (not taken from MeshProofs), so the file pins the documented encoding. */
  private static byte[] macInput(String dialler, String target, long seconds, byte[] nonce) {
    return Bytes.concat(
        Bytes.lengthPrefixed(
            Bytes.utf8(CryptoConstants.RELAY_MESH_PROOF_DOMAIN),
            Bytes.utf8(dialler),
            Bytes.utf8(target)),
        Bytes.u64be(seconds),
        Bytes.lengthPrefixed(nonce));
  }

  private static String header(String target, long seconds, byte[] nonce, byte[] mac) {
    return String.join(
        ".",
        "v1",
        target,
        Long.toString(seconds),
        B64.encodeToString(nonce),
        B64.encodeToString(mac));
  }

  static List<String> replay(JsonNode v) {
    List<String> failures = new ArrayList<>();
    String dialler = v.get("dialler").asText();
    String target = v.get("target").asText();
    long seconds = v.get("unix_seconds").asLong();
    byte[] nonce = Hex.d(v.get("nonce").asText());
    byte[] key = MeshProofs.key(v.get("internal_credential").asText());
    byte[] mac = Hex.d(v.get("mac").asText());
    check(failures, "mesh_key", Hex.e(key), v);
    check(failures, "mac_input", Hex.e(macInput(dialler, target, seconds, nonce)), v);
    check(failures, "mac", Hex.e(MeshProofs.mac(key, dialler, target, seconds, nonce)), v);
    check(failures, "header", header(target, seconds, nonce, mac), v);
    if (!MeshProofs.verify(key, dialler, target, seconds, nonce, mac)) {
      failures.add(dialler + ": mac does not verify");
    }
    if (MeshProofs.verify(key, target, dialler, seconds, nonce, mac)) {
      failures.add(dialler + ": mac verifies with dialler and target swapped");
    }
    return failures;
  }

  private static void check(List<String> failures, String field, String actual, JsonNode v) {
    if (!actual.equals(v.get(field).asText())) {
      failures.add(v.get("dialler").asText() + ": " + field + " differs");
    }
  }
}
