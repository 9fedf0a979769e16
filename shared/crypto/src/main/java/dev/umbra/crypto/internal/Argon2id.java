package dev.umbra.crypto.internal;

import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/** Raw Argon2id (version 0x13) through Bouncy Castle's {@link Argon2BytesGenerator}. */
public final class Argon2id {
  private Argon2id() {}

  public static byte[] derive(
      byte[] password,
      byte[] salt,
      byte[] secret,
      byte[] associatedData,
      int memoryKiB,
      int iterations,
      int parallelism,
      int outputLength) {
    Argon2Parameters.Builder builder =
        new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
            .withVersion(Argon2Parameters.ARGON2_VERSION_13)
            .withSalt(salt)
            .withMemoryAsKB(memoryKiB)
            .withIterations(iterations)
            .withParallelism(parallelism);
    if (secret != null) {
      builder.withSecret(secret);
    }
    if (associatedData != null) {
      builder.withAdditional(associatedData);
    }
    Argon2BytesGenerator generator = new Argon2BytesGenerator();
    generator.init(builder.build());
    byte[] out = new byte[outputLength];
    generator.generateBytes(password, out);
    return out;
  }
}
