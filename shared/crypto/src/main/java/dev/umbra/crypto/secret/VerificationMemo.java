package dev.umbra.crypto.secret;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.internal.Blake2b;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiPredicate;

/**
 * Remembers for a while that a secret matched a stored Argon2id hash, so a high-entropy secret
 * presented on every request (an API token) costs one Argon2id computation per {@code ttl}, not one
 * per request: a one-shot CLI command makes several requests, and each paid ~50–150 ms of a core on
 * the control plane (docs/benchmarks.md, "CLI start-up").
 *
 * <p>What is remembered is a keyed BLAKE2b-256 of (stored hash, secret) under a key drawn at
 * construction, in memory only: nothing that could be checked without that key, and nothing that
 * reaches a database or a log. A stored hash that changes (a rotated or re-hashed secret) no longer
 * matches its entries. Only successes are remembered: a wrong secret pays Argon2id every time, so
 * guessing stays as slow as before. A hit answers faster than a miss, but a hit needs the right
 * secret, which the answer (accepted) reveals anyway. Whether the secret is still valid (revoked,
 * expired) is the caller's to check on every request, as before. Entries expire after {@code ttl};
 * at most {@code capacity} are kept (the least recently used go first). Thread-safe.
 */
public final class VerificationMemo {
  private final BiPredicate<String, byte[]> check;
  private final Clock clock;
  private final Duration ttl;
  private final int capacity;
  private final byte[] key = SecureRandoms.bytes(CryptoConstants.BLAKE2B_256_LENGTH);
  private final Map<ByteBuffer, Instant> verified;

  /** A memo over {@code hasher.verify}. */
  public VerificationMemo(Argon2idHasher hasher, Clock clock, Duration ttl, int capacity) {
    this(hasher::verify, clock, ttl, capacity);
  }

  /**
   * A memo over any check of (stored hash, secret); {@code check} must be a pure function of its
   * arguments.
   */
  public VerificationMemo(
      BiPredicate<String, byte[]> check, Clock clock, Duration ttl, int capacity) {
    if (ttl.isNegative() || ttl.isZero() || capacity < 1) {
      throw new IllegalArgumentException("ttl must be positive and capacity at least 1");
    }
    this.check = Objects.requireNonNull(check);
    this.clock = Objects.requireNonNull(clock);
    this.ttl = ttl;
    this.capacity = capacity;
    this.verified =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<ByteBuffer, Instant> eldest) {
            return size() > VerificationMemo.this.capacity;
          }
        };
  }

  /**
   * True when {@code secret} matches {@code encoded}: remembered, or checked now (and then
   * remembered).
   */
  public boolean verify(String encoded, byte[] secret) {
    ByteBuffer id = ByteBuffer.wrap(digest(encoded, secret));
    Instant now = clock.instant();
    synchronized (verified) {
      Instant until = verified.get(id);
      if (until != null && now.isBefore(until)) {
        return true;
      }
      if (until != null) {
        verified.remove(id);
      }
    }
    if (!check.test(encoded, secret)) {
      return false;
    }
    synchronized (verified) {
      verified.put(id, clock.instant().plus(ttl));
    }
    return true;
  }

  /**
   * How many successes are remembered now (expired ones included until they are looked up or
   * evicted).
   */
  public int size() {
    synchronized (verified) {
      return verified.size();
    }
  }

  private byte[] digest(String encoded, byte[] secret) {
    byte[] hash = encoded.getBytes(StandardCharsets.UTF_8);
    // length-prefixed, so (hash, secret) pairs cannot be shifted into one another
    byte[] input =
        ByteBuffer.allocate(4 + hash.length + secret.length)
            .putInt(hash.length)
            .put(hash)
            .put(secret)
            .array();
    try {
      return Blake2b.digest(key, CryptoConstants.BLAKE2B_256_LENGTH, input);
    } finally {
      java.util.Arrays.fill(input, (byte) 0);
    }
  }
}
