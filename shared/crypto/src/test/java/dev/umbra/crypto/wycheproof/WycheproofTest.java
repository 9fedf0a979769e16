package dev.umbra.crypto.wycheproof;

import com.fasterxml.jackson.databind.JsonNode;
import dev.umbra.crypto.aead.AeadKey;
import dev.umbra.crypto.aead.Aes256Gcm;
import dev.umbra.crypto.aead.ChaCha20Poly1305;
import dev.umbra.crypto.aead.XChaCha20Poly1305;
import dev.umbra.crypto.internal.JceAead;
import dev.umbra.crypto.kdf.HkdfSha256;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.P256PrivateKey;
import dev.umbra.crypto.keys.P256PublicKey;
import dev.umbra.crypto.keys.X25519PrivateKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.testing.Hex;
import dev.umbra.crypto.wycheproof.WycheproofRunner.Outcome;
import java.math.BigInteger;
import java.util.Arrays;
import org.bouncycastle.util.BigIntegers;
import org.junit.jupiter.api.Test;

/** Replays the Wycheproof files in ../shared/vectors/wycheproof against umbra-crypto's own API. */
class WycheproofTest {
  private static String h(JsonNode t, String field) {
    return t.get(field).asText();
  }

  /** AEAD test: valid means seal gives ct||tag and open gives msg; invalid means open rejects. */
  private interface Aead {
    byte[] seal(byte[] key, byte[] iv, byte[] aad, byte[] msg);

    byte[] open(byte[] key, byte[] iv, byte[] aad, byte[] ct);
  }

  private static Outcome aead(JsonNode t, Aead aead) {
    byte[] key = Hex.d(h(t, "key"));
    byte[] iv = Hex.d(h(t, "iv"));
    byte[] aad = Hex.d(h(t, "aad"));
    byte[] msg = Hex.d(h(t, "msg"));
    byte[] ctTag = Hex.d(h(t, "ct") + h(t, "tag"));
    byte[] opened = aead.open(key, iv, aad, ctTag);
    boolean correct = Arrays.equals(opened, msg);
    if ("valid".equals(h(t, "result"))) {
      correct &= Arrays.equals(aead.seal(key, iv, aad, msg), ctTag);
    }
    return Outcome.accepted(correct);
  }

  @Test
  void aesGcmThroughTheJceAeadAllKeyAndNonceSizes() {
    WycheproofRunner.run(
        "aes_gcm_test.json",
        " via JceAead",
        (g, t) ->
            aead(
                t,
                new Aead() {
                  public byte[] seal(byte[] k, byte[] iv, byte[] aad, byte[] m) {
                    return new JceAead(JceAead.Algorithm.AES_GCM, k).seal(iv, aad, m);
                  }

                  public byte[] open(byte[] k, byte[] iv, byte[] aad, byte[] c) {
                    return new JceAead(JceAead.Algorithm.AES_GCM, k).open(iv, aad, c);
                  }
                }));
  }

  @Test
  void aesGcmThroughThePublicAes256GcmApi() {
    // Aes256Gcm takes only 256-bit keys and 96-bit nonces by design; the other groups are counted
    // as
    // not applicable here (the JceAead replay above covers them).
    WycheproofRunner.run(
        "aes_gcm_test.json",
        " via Aes256Gcm",
        (g, t) -> {
          if (g.get("keySize").asInt() != 256 || g.get("ivSize").asInt() != 96) {
            return Outcome.notApplicable();
          }
          return aead(
              t,
              new Aead() {
                public byte[] seal(byte[] k, byte[] iv, byte[] aad, byte[] m) {
                  return Aes256Gcm.seal(AeadKey.fromBytes(k), iv, aad, m);
                }

                public byte[] open(byte[] k, byte[] iv, byte[] aad, byte[] c) {
                  return Aes256Gcm.open(AeadKey.fromBytes(k), iv, aad, c);
                }
              });
        });
  }

  @Test
  void chacha20Poly1305() {
    WycheproofRunner.run(
        "chacha20_poly1305_test.json",
        (g, t) ->
            aead(
                t,
                new Aead() {
                  public byte[] seal(byte[] k, byte[] iv, byte[] aad, byte[] m) {
                    return ChaCha20Poly1305.seal(AeadKey.fromBytes(k), iv, aad, m);
                  }

                  public byte[] open(byte[] k, byte[] iv, byte[] aad, byte[] c) {
                    return ChaCha20Poly1305.open(AeadKey.fromBytes(k), iv, aad, c);
                  }
                }));
  }

  @Test
  void xchacha20Poly1305() {
    WycheproofRunner.run(
        "xchacha20_poly1305_test.json",
        (g, t) ->
            aead(
                t,
                new Aead() {
                  public byte[] seal(byte[] k, byte[] iv, byte[] aad, byte[] m) {
                    return XChaCha20Poly1305.seal(AeadKey.fromBytes(k), iv, aad, m);
                  }

                  public byte[] open(byte[] k, byte[] iv, byte[] aad, byte[] c) {
                    return XChaCha20Poly1305.open(AeadKey.fromBytes(k), iv, aad, c);
                  }
                }));
  }

  @Test
  void x25519() {
    WycheproofRunner.run(
        "x25519_test.json",
        (g, t) -> {
          byte[] shared =
              X25519PrivateKey.fromBytes(Hex.d(h(t, "private")))
                  .agree(X25519PublicKey.fromBytes(Hex.d(h(t, "public"))));
          return Outcome.accepted(Hex.e(shared).equals(h(t, "shared")));
        });
  }

  @Test
  void ed25519() {
    WycheproofRunner.run(
        "ed25519_test.json",
        (g, t) -> {
          Ed25519PublicKey pk = Ed25519PublicKey.fromHex(g.get("publicKey").get("pk").asText());
          pk.verify(Hex.d(h(t, "msg")), Hex.d(h(t, "sig")));
          return Outcome.accepted(true);
        });
  }

  private static P256PrivateKey p256Private(String hex) {
    BigInteger d = new BigInteger(1, Hex.d(hex));
    return P256PrivateKey.fromBytes(BigIntegers.asUnsignedByteArray(32, d));
  }

  @Test
  void ecdhP256WithRawPoints() {
    WycheproofRunner.run(
        "ecdh_secp256r1_ecpoint_test.json",
        (g, t) -> {
          byte[] shared = p256Private(h(t, "private")).agree(P256PublicKey.fromHex(h(t, "public")));
          return Outcome.accepted(Hex.e(shared).equals(h(t, "shared")));
        });
  }

  @Test
  void ecdhP256WithSpkiPublicKeys() {
    WycheproofRunner.run(
        "ecdh_secp256r1_test.json",
        (g, t) -> {
          byte[] shared =
              p256Private(h(t, "private")).agree(P256PublicKey.fromSpki(Hex.d(h(t, "public"))));
          return Outcome.accepted(Hex.e(shared).equals(h(t, "shared")));
        });
  }

  @Test
  void ecdsaP256Sha256P1363() {
    WycheproofRunner.run(
        "ecdsa_secp256r1_sha256_p1363_test.json",
        (g, t) -> {
          P256PublicKey pk = P256PublicKey.fromHex(g.get("publicKey").get("uncompressed").asText());
          pk.verify(Hex.d(h(t, "msg")), Hex.d(h(t, "sig")));
          return Outcome.accepted(true);
        });
  }

  @Test
  void ecdsaP256Sha256Der() {
    WycheproofRunner.run(
        "ecdsa_secp256r1_sha256_test.json",
        (g, t) -> {
          P256PublicKey pk = P256PublicKey.fromHex(g.get("publicKey").get("uncompressed").asText());
          pk.verifyDer(Hex.d(h(t, "msg")), Hex.d(h(t, "sig")));
          return Outcome.accepted(true);
        });
  }

  @Test
  void hkdfSha256() {
    WycheproofRunner.run(
        "hkdf_sha256_test.json",
        (g, t) -> {
          byte[] okm =
              HkdfSha256.derive(
                  Hex.d(h(t, "ikm")),
                  Hex.d(h(t, "salt")),
                  Hex.d(h(t, "info")),
                  t.get("size").asInt());
          return Outcome.accepted(Hex.e(okm).equals(h(t, "okm")));
        });
  }
}
