package dev.umbra.kit.auth;

import dev.umbra.crypto.secret.Blake2b256;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Remembers, per exact session token, the claims {@link SessionVerifier#check} found in it, so a
 * token presented on every request of a session (the messaging routes) is parsed, its signature
 * verified and its claims read once, not on every request: parsing alone was ~15 % of a control
 * plane's CPU under the messaging benchmark once the signature check was remembered
 * (docs/benchmarks.md, "Messaging").
 *
 * <p>Everything the check derives from the token's bytes (algorithm, kid, signature, issuer,
 * audience, the claims) is a function of those bytes and is remembered; what is not is checked on
 * every use as without the memo: the kid must still name the same key in {@code keys} (a key
 * removed or replaced refuses the token), and the expiry and not-before times are compared with
 * {@code now} (an entry is never used after the token's {@code exp} plus the clock skew).
 * Revocation is the caller's to check on every use with the claims returned, as before. A token
 * that fails is never remembered; a remembered one that no longer passes is forgotten and checked
 * in full, which gives the refusal's reason.
 *
 * <p>Entries are keyed by the BLAKE2b-256 of the token (the token itself is not kept); at most
 * {@code capacity} are kept, the least recently used go first. Thread-safe.
 */
public final class SessionClaimsMemo {
  private final String audience;
  private final int capacity;
  private final Map<ByteBuffer, SessionVerifier.Checked> remembered;

  public SessionClaimsMemo(String audience, int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1");
    }
    this.audience = audience;
    this.capacity = capacity;
    this.remembered =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<ByteBuffer, SessionVerifier.Checked> e) {
            return size() > SessionClaimsMemo.this.capacity;
          }
        };
  }

  /**
   * {@link SessionVerifier#check(String, Map, String, Instant)} of {@code token} for this memo's
   * audience, remembered (class comment); fails with {@link InvalidSessionException} exactly when
   * that check would.
   */
  public SessionClaims check(String token, Map<String, PublicKey> keys, Instant now) {
    if (token == null || token.isEmpty() || token.length() > SessionTokens.MAX_TOKEN_CHARS) {
      return SessionVerifier.check(token, keys, audience, now); // refuses it, with its reason
    }
    ByteBuffer id = ByteBuffer.wrap(Blake2b256.hash(token.getBytes(StandardCharsets.UTF_8)));
    SessionVerifier.Checked known;
    synchronized (remembered) {
      known = remembered.get(id);
    }
    if (known != null) {
      if (stillValid(known, keys, now)) {
        return known.claims();
      }
      synchronized (remembered) {
        remembered.remove(id);
      }
    }
    SessionVerifier.Checked fresh = SessionVerifier.checked(token, keys, audience, now, null);
    synchronized (remembered) {
      remembered.put(id, fresh);
    }
    return fresh.claims();
  }

  /** How many tokens are remembered now (expired ones included until used or evicted). */
  public int size() {
    synchronized (remembered) {
      return remembered.size();
    }
  }

  private static boolean stillValid(
      SessionVerifier.Checked c, Map<String, PublicKey> keys, Instant now) {
    PublicKey key = keys.get(c.keyId());
    long skew = SessionTokens.CLOCK_SKEW_SECONDS;
    return key != null
        && (key == c.key() || key.equals(c.key()))
        && now.isBefore(c.claims().expiresAt().plusSeconds(skew))
        && (c.notBefore() == null || !now.plusSeconds(skew).isBefore(c.notBefore()));
  }
}
