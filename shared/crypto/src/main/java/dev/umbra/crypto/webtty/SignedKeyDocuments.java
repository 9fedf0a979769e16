package dev.umbra.crypto.webtty;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What the daemon's two signed key documents ({@link InputKeyGrant}, {@link OutputKeyEpoch}) share:
 * the bounds and signature check that come before any parsing, the encoding of their grant lists
 * ({@code [{"ciphertext","enc","recipient_key_id"}]}, the key id, role and suites being the
 * document's own), and strict member readers. {@code what} names the document in messages.
 */
final class SignedKeyDocuments {
  private static final HexFormat HEX = HexFormat.of();
  private static final Set<String> GRANT_MEMBERS = Set.of("recipient_key_id", "enc", "ciphertext");

  private SignedKeyDocuments() {}

  /**
   * Bounded (16 KiB, a 64-byte signature), then the signature by the pinned key, before anything is
   * parsed.
   */
  static void checkSignature(
      byte[] canonicalJson, byte[] signature, Ed25519PublicKey pinnedServerKey, String what) {
    if (canonicalJson == null || canonicalJson.length == 0 || canonicalJson.length > 16 * 1024) {
      throw new MalformedInputException(what + " is empty or larger than 16 KiB");
    }
    if (signature == null || signature.length != CryptoConstants.ED25519_SIGNATURE_LENGTH) {
      throw new MalformedInputException(what + " signature must be 64 bytes");
    }
    pinnedServerKey.verify(canonicalJson, signature);
  }

  static List<Object> grantsJson(List<KeyGrant> grants) {
    List<Object> gs = new ArrayList<>();
    for (KeyGrant g : grants) {
      Map<String, Object> gm = new LinkedHashMap<>();
      gm.put("recipient_key_id", g.recipientKeyId().toHex());
      gm.put("enc", HEX.formatHex(g.enc()));
      gm.put("ciphertext", HEX.formatHex(g.ciphertext()));
      gs.add(gm);
    }
    return gs;
  }

  static KeyGrant grantFor(List<KeyGrant> grants, KeyId id) {
    for (KeyGrant g : grants) {
      if (g.recipientKeyId().equals(id)) {
        return g;
      }
    }
    return null;
  }

  /**
   * The {@code grants} member: at most {@code max} entries of exactly the three members, of their
   * sizes.
   */
  @SuppressWarnings("unchecked")
  static List<KeyGrant> parseGrants(
      Object value,
      int max,
      KeyRole role,
      PayloadSuite suite,
      KeyEnvelopeSuite envelope,
      PayloadKeyId keyId,
      String what) {
    if (!(value instanceof List<?> gl) || gl.size() > max) {
      throw new MalformedInputException(what + " lacks grants");
    }
    List<KeyGrant> grants = new ArrayList<>();
    for (Object o : gl) {
      if (!(o instanceof Map<?, ?> gm) || !gm.keySet().equals(GRANT_MEMBERS)) {
        throw new MalformedInputException(what + " grant must have exactly " + GRANT_MEMBERS);
      }
      Map<String, Object> g = (Map<String, Object>) gm;
      byte[] enc = hex(g, "enc", what);
      byte[] ct = hex(g, "ciphertext", what);
      if (enc.length != CryptoConstants.X25519_KEY_LENGTH
          || ct.length != CryptoConstants.AES_256_KEY_LENGTH + CryptoConstants.AEAD_TAG_LENGTH) {
        throw new MalformedInputException(what + " grant has a bad enc or ciphertext length");
      }
      grants.add(
          new KeyGrant(
              KeyId.fromBytes(hex(g, "recipient_key_id", what)),
              role,
              suite,
              envelope,
              keyId,
              enc,
              ct));
    }
    return grants;
  }

  static String str(Map<String, Object> m, String k, String what) {
    if (!(m.get(k) instanceof String s)) {
      throw new MalformedInputException(what + " lacks " + k);
    }
    return s;
  }

  static long num(Map<String, Object> m, String k, String what) {
    if (!(m.get(k) instanceof Long l)) {
      throw new MalformedInputException(what + " lacks " + k);
    }
    return l;
  }

  static byte[] hex(Map<String, Object> m, String k, String what) {
    return lowerHex(str(m, k, what), k, what);
  }

  static byte[] lowerHex(String s, String k, String what) {
    if (!s.equals(s.toLowerCase(Locale.ROOT))) {
      throw new MalformedInputException(what + " " + k + " must be lowercase hex");
    }
    try {
      return HEX.parseHex(s);
    } catch (IllegalArgumentException e) {
      throw new MalformedInputException(what + " has a bad " + k);
    }
  }
}
