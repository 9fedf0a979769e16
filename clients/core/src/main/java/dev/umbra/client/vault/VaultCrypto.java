package dev.umbra.client.vault;

import dev.umbra.crypto.hpke.Hpke;
import dev.umbra.crypto.hpke.HpkeCiphertext;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Vault entries are HPKE (RFC 9180, base mode, X25519/HKDF-SHA256/AES-256-GCM) sealed to the
 * workspace encryption key of one keyset version. Info and AAD are both the canonical JSON of
 * {@code {"type":"umbra-vault-entry/v1","workspace_id","name","keyset_version"}}, so a ciphertext
 * moved to another name, workspace or version does not open.
 */
public final class VaultCrypto {
  public static final String DOMAIN = "umbra-vault-entry/v1";
  public static final int MAX_VALUE = 64 * 1024;

  private VaultCrypto() {}

  public static byte[] context(UUID workspaceId, String name, int version) {
    Map<String, Object> m = new TreeMap<>();
    m.put("type", DOMAIN);
    m.put("workspace_id", workspaceId.toString());
    m.put("name", name);
    m.put("keyset_version", version);
    return CanonicalJson.encode(m);
  }

  public static HpkeCiphertext seal(
      X25519PublicKey workspaceKey, UUID workspaceId, String name, int version, byte[] value) {
    byte[] ctx = context(workspaceId, name, version);
    return Hpke.BASE_AES_256_GCM.seal(workspaceKey, ctx, ctx, value);
  }

  public static byte[] open(
      X25519KeyPair workspaceKey,
      UUID workspaceId,
      String name,
      int version,
      byte[] enc,
      byte[] ciphertext) {
    byte[] ctx = context(workspaceId, name, version);
    return Hpke.BASE_AES_256_GCM.open(workspaceKey, enc, ctx, ctx, ciphertext);
  }
}
