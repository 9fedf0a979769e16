package dev.umbra.client.vault;

import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.hpke.Hpke;
import dev.umbra.crypto.hpke.HpkeCiphertext;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PrivateKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * A vault grant: the workspace's vault decryption keys (X25519, per keyset version), HPKE-sealed on
 * a trusted device to one machine's binding X25519 key. Info and AAD are the canonical JSON {@code
 * {"type":"umbra-vault-grant/v1","workspace_id","machine_id","keyset_version"}}; the plaintext is
 * {@code {"format":"umbra-vault-grant/v1","encryption_private_keys":{"<version>":hex}}}.
 */
public final class VaultGrants {
  public static final String TYPE = "umbra-vault-grant/v1";

  private VaultGrants() {}

  static byte[] context(UUID workspaceId, UUID machineId, int version) {
    Map<String, Object> m = new TreeMap<>();
    m.put("type", TYPE);
    m.put("workspace_id", workspaceId.toString());
    m.put("machine_id", machineId.toString());
    m.put("keyset_version", version);
    return CanonicalJson.encode(m);
  }

  public static HpkeCiphertext seal(
      X25519PublicKey machineKey,
      UUID workspaceId,
      UUID machineId,
      int version,
      Map<Integer, X25519KeyPair> keys) {
    Map<String, Object> k = new TreeMap<>();
    keys.forEach(
        (v, pair) ->
            k.put(
                String.valueOf(v),
                HexFormat.of().formatHex(pair.privateKey().exportPrivateBytes())));
    Map<String, Object> m = new TreeMap<>();
    m.put("format", TYPE);
    m.put("encryption_private_keys", k);
    byte[] plain = CanonicalJson.encode(m);
    try {
      byte[] ctx = context(workspaceId, machineId, version);
      return Hpke.BASE_AES_256_GCM.seal(machineKey, ctx, ctx, plain);
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
  }

  @SuppressWarnings("unchecked")
  public static Map<Integer, X25519KeyPair> open(
      X25519KeyPair machineKey,
      UUID workspaceId,
      UUID machineId,
      int version,
      byte[] enc,
      byte[] ciphertext) {
    byte[] ctx = context(workspaceId, machineId, version);
    byte[] plain = Hpke.BASE_AES_256_GCM.open(machineKey, enc, ctx, ctx, ciphertext);
    try {
      if (!(CanonicalJson.parse(plain) instanceof Map<?, ?> m)
          || !TYPE.equals(m.get("format"))
          || !(m.get("encryption_private_keys") instanceof Map<?, ?> keys)) {
        throw new MalformedInputException("vault grant is malformed");
      }
      Map<Integer, X25519KeyPair> out = new TreeMap<>();
      for (Map.Entry<String, Object> e : ((Map<String, Object>) keys).entrySet()) {
        out.put(
            Integer.parseInt(e.getKey()),
            X25519KeyPair.fromPrivateKey(
                X25519PrivateKey.fromBytes(HexFormat.of().parseHex((String) e.getValue()))));
      }
      return out;
    } catch (ClassCastException | IllegalArgumentException e) {
      throw new MalformedInputException("vault grant is malformed");
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
  }
}
