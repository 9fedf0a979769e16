package dev.umbra.crypto.messaging;

import dev.umbra.crypto.keys.X25519KeyPair;
import java.time.Clock;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * What a session needs besides its state: the clock (skipped-key ages), the limits, and where fresh
 * X25519 key pairs come from (ratchet keys, the X3DH ephemeral key). Use {@link #defaults}; {@link
 * #insecureFixedKeys} exists for conformance vectors only.
 */
public record RatchetOptions(Clock clock, RatchetLimits limits, Supplier<X25519KeyPair> keySource) {
  public RatchetOptions {
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(keySource, "keySource");
  }

  /** Fresh random keys, default limits. */
  public static RatchetOptions defaults(Clock clock) {
    return new RatchetOptions(clock, RatchetLimits.DEFAULT, X25519KeyPair::generate);
  }

  /** Keys from {@code source} (deterministic vectors). Never in production: keys must be fresh. */
  public static RatchetOptions insecureFixedKeys(Clock clock, Supplier<X25519KeyPair> source) {
    return new RatchetOptions(clock, RatchetLimits.DEFAULT, source);
  }

  public RatchetOptions withLimits(RatchetLimits l) {
    return new RatchetOptions(clock, l, keySource);
  }
}
