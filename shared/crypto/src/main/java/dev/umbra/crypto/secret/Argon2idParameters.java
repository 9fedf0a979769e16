package dev.umbra.crypto.secret;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.MalformedInputException;

/** Argon2id cost parameters: memory in KiB, iterations (t) and parallelism (p). */
public record Argon2idParameters(int memoryKiB, int iterations, int parallelism) {
  /** OWASP's current minimum recommendation (m = 19 MiB, t = 2, p = 1). */
  public static final Argon2idParameters OWASP_MINIMUM =
      new Argon2idParameters(
          CryptoConstants.ARGON2ID_MEMORY_KIB,
          CryptoConstants.ARGON2ID_ITERATIONS,
          CryptoConstants.ARGON2ID_PARALLELISM);

  public Argon2idParameters {
    if (parallelism < 1 || parallelism > CryptoConstants.ARGON2ID_MAX_PARALLELISM) {
      throw new MalformedInputException("argon2id parallelism out of range: " + parallelism);
    }
    if (iterations < 1 || iterations > CryptoConstants.ARGON2ID_MAX_ITERATIONS) {
      throw new MalformedInputException("argon2id iterations out of range: " + iterations);
    }
    if (memoryKiB < 8 * parallelism || memoryKiB > CryptoConstants.ARGON2ID_MAX_MEMORY_KIB) {
      throw new MalformedInputException("argon2id memory out of range: " + memoryKiB + " KiB");
    }
  }

  /** True when every cost is at least the corresponding cost of {@code floor}. */
  public boolean atLeast(Argon2idParameters floor) {
    return memoryKiB >= floor.memoryKiB
        && iterations >= floor.iterations
        && parallelism >= floor.parallelism;
  }
}
