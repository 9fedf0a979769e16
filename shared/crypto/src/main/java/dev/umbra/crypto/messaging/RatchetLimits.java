package dev.umbra.crypto.messaging;

import dev.umbra.crypto.CryptoConstants;
import java.time.Duration;

/**
 * Bounds on skipped message keys: at most {@code maxSkip} skipped in one chain by one message, at
 * most {@code maxSkippedKeys} kept (oldest deleted first), each deleted after {@code
 * skippedKeyMaxAge}.
 */
public record RatchetLimits(int maxSkip, int maxSkippedKeys, Duration skippedKeyMaxAge) {
  public static final RatchetLimits DEFAULT =
      new RatchetLimits(
          CryptoConstants.MSG_MAX_SKIP,
          CryptoConstants.MSG_MAX_SKIPPED_KEYS,
          Duration.ofSeconds(CryptoConstants.MSG_SKIPPED_KEY_MAX_AGE_SECONDS));

  public RatchetLimits {
    if (maxSkip < 0
        || maxSkippedKeys < maxSkip
        || maxSkippedKeys > CryptoConstants.MSG_MAX_SKIPPED_KEYS) {
      throw new IllegalArgumentException(
          "need 0 <= maxSkip <= maxSkippedKeys <= " + CryptoConstants.MSG_MAX_SKIPPED_KEYS);
    }
    if (skippedKeyMaxAge.isNegative() || skippedKeyMaxAge.isZero()) {
      throw new IllegalArgumentException("skippedKeyMaxAge must be positive");
    }
  }
}
