package dev.umbra.crypto.secret;

import static dev.umbra.crypto.CryptoConstants.RELAY_MESH_MAC_LENGTH;
import static dev.umbra.crypto.CryptoConstants.RELAY_MESH_NONCE_LENGTH;
import static dev.umbra.crypto.CryptoConstants.RELAY_MESH_PROOF_DOMAIN;

import dev.umbra.crypto.internal.Blake2b;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.kdf.HkdfSha256;

/**
 * The MAC with which a relay instance proves, when it opens a mesh link, that it knows the internal
 * credential without sending it (docs/relay.md, "Mesh link authentication"):
 *
 * <pre>
 * key = HKDF-SHA256(ikm = UTF-8(credential), salt = none, info = "umbra-relay-mesh/v1", L = 32)
 * mac = BLAKE2b-256(key = key, lp("umbra-relay-mesh/v1") lp(dialler) lp(target)
 *                              u64be(unix_seconds) lp(nonce))
 * </pre>
 *
 * The key is derived for this purpose only, so neither it nor a proof opens any other route the
 * credential opens; the MAC binds the dialling instance, the instance dialled, the time and a
 * nonce, so a proof captured by whoever was dialled opens no link to anyone else, later, or twice.
 */
public final class MeshProofs {
  private MeshProofs() {}

  /** The mesh key derived from the internal credential. */
  public static byte[] key(String credential) {
    return HkdfSha256.derive(
        Bytes.utf8(credential), null, Bytes.utf8(RELAY_MESH_PROOF_DOMAIN), RELAY_MESH_MAC_LENGTH);
  }

  /** The MAC of a proof by {@code dialler} for {@code target} at {@code unixSeconds}. */
  public static byte[] mac(
      byte[] key, String dialler, String target, long unixSeconds, byte[] nonce) {
    if (key == null || key.length != RELAY_MESH_MAC_LENGTH) {
      throw new IllegalArgumentException("a mesh key is " + RELAY_MESH_MAC_LENGTH + " bytes");
    }
    if (nonce == null || nonce.length != RELAY_MESH_NONCE_LENGTH) {
      throw new IllegalArgumentException("a mesh nonce is " + RELAY_MESH_NONCE_LENGTH + " bytes");
    }
    byte[] input =
        Bytes.concat(
            Bytes.lengthPrefixed(
                Bytes.utf8(RELAY_MESH_PROOF_DOMAIN), Bytes.utf8(dialler), Bytes.utf8(target)),
            Bytes.u64be(unixSeconds),
            Bytes.lengthPrefixed(nonce));
    return Blake2b.digest(key, RELAY_MESH_MAC_LENGTH, input);
  }

  /** Whether {@code given} is the MAC of those fields (constant time). */
  public static boolean verify(
      byte[] key, String dialler, String target, long unixSeconds, byte[] nonce, byte[] given) {
    return ConstantTime.equals(mac(key, dialler, target, unixSeconds, nonce), given);
  }

  /** A fresh random nonce. */
  public static byte[] nonce() {
    return SecureRandoms.bytes(RELAY_MESH_NONCE_LENGTH);
  }
}
