package dev.umbra.crypto.sign;

import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519PrivateKey;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.P256PrivateKey;
import dev.umbra.crypto.keys.P256PublicKey;

/**
 * Signatures over the canonical JSON (DESIGN.md §7) of a value: the signed bytes are exactly {@link
 * CanonicalJson#encode(Object)}. Verification failures throw {@link
 * dev.umbra.crypto.AuthenticationFailedException}; values that cannot be canonicalized throw {@link
 * dev.umbra.crypto.MalformedInputException}.
 */
public final class CanonicalJsonSignatures {
  private CanonicalJsonSignatures() {}

  public static byte[] signEd25519(Ed25519PrivateKey key, Object jsonValue) {
    return key.sign(CanonicalJson.encode(jsonValue));
  }

  public static void verifyEd25519(Ed25519PublicKey key, Object jsonValue, byte[] signature) {
    key.verify(CanonicalJson.encode(jsonValue), signature);
  }

  /** ECDSA-P256-SHA256, deterministic (RFC 6979), IEEE P1363 signature. */
  public static byte[] signEcdsaP256(P256PrivateKey key, Object jsonValue) {
    return key.sign(CanonicalJson.encode(jsonValue));
  }

  public static void verifyEcdsaP256(P256PublicKey key, Object jsonValue, byte[] signature) {
    key.verify(CanonicalJson.encode(jsonValue), signature);
  }
}
