package dev.umbra.crypto.messaging;

import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.Ed25519PrivateKey;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PrivateKey;
import dev.umbra.crypto.testing.Hex;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * Deterministic keys for the messaging conformance vectors, and a key source that records draws.
 */
final class VectorKeys {
  static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");
  static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  private final BiFunction<String, Integer, byte[]> seed;

  VectorKeys(BiFunction<String, Integer, byte[]> seed) {
    this.seed = seed;
  }

  X25519KeyPair x25519(String label) {
    return X25519KeyPair.fromPrivateKey(X25519PrivateKey.fromBytes(seed.apply(label, 32)));
  }

  IdentityKeyPair identity(String label) {
    return new IdentityKeyPair(
        Ed25519KeyPair.fromPrivateKey(
            Ed25519PrivateKey.fromBytes(seed.apply(label + "/ed25519", 32))),
        x25519(label + "/x25519"));
  }

  /** A key source drawing {@code label/0}, {@code label/1}, ... and remembering the draws. */
  Drawn drawn(String label) {
    return new Drawn(i -> x25519(label + "/" + i));
  }

  /** A key source replaying the given private keys in order (for replays of a vector). */
  static Drawn replaying(List<String> privateHex) {
    return new Drawn(
        i -> {
          if (i >= privateHex.size()) {
            throw new AssertionError("the vector lists only " + privateHex.size() + " keys");
          }
          return X25519KeyPair.fromPrivateKey(X25519PrivateKey.fromBytes(Hex.d(privateHex.get(i))));
        });
  }

  static RatchetOptions options(Supplier<X25519KeyPair> keys) {
    return RatchetOptions.insecureFixedKeys(CLOCK, keys);
  }

  static final class Drawn implements Supplier<X25519KeyPair> {
    private final java.util.function.IntFunction<X25519KeyPair> next;
    final List<String> privates = new ArrayList<>();

    Drawn(java.util.function.IntFunction<X25519KeyPair> next) {
      this.next = next;
    }

    @Override
    public X25519KeyPair get() {
      X25519KeyPair k = next.apply(privates.size());
      privates.add(Hex.e(k.privateKey().exportPrivateBytes()));
      return k;
    }
  }
}
