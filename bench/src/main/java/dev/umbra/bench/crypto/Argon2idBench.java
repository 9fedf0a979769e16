package dev.umbra.bench.crypto;

import dev.umbra.crypto.secret.Argon2idHasher;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/** Time to hash one API token with the default Argon2id parameters (m = 19 MiB, t = 2, p = 1). */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class Argon2idBench {
  private final Argon2idHasher hasher = Argon2idHasher.defaults();
  private final byte[] token = "umb_01HF8ZK2Q3_4kP9sV2xQ7bN1mT6wR8yZ0cD5fG3hJ".getBytes();

  @Benchmark
  public String argon2idHash() {
    return hasher.hash(token);
  }
}
