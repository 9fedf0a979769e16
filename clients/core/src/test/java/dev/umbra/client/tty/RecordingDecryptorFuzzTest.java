package dev.umbra.client.tty;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.proto.SeedMutations;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the recording reader ({@code umbra tty recordings play}/export read what the
 * engine serves: a delimited header, then delimited events). Contract: a recording is refused with
 * an {@link IOException} (including protobuf's) or a {@link CryptoException} and nothing else;
 * chunks that come out are in increasing sequence order.
 */
class RecordingDecryptorFuzzTest {
  private static final X25519KeyPair ME = X25519KeyPair.generate();
  private static final UUID WORKSPACE = UUID.fromString("0192d6e4-0000-7000-8000-000000000001");

  /** Every build: the seeds and 3,000 deterministic mutants of them (see {@link SeedMutations}). */
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "recordingsDecryptOrAreRefusedWithDocumentedExceptions",
                3_000,
                this::recordingsDecryptOrAreRefusedWithDocumentedExceptions))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void recordingsDecryptOrAreRefusedWithDocumentedExceptions(byte[] input) {
    List<RecordingDecryptor.Chunk> chunks;
    try {
      chunks = RecordingDecryptor.decrypt(new ByteArrayInputStream(input), WORKSPACE, ME, true);
    } catch (IOException | CryptoException e) {
      return;
    }
    for (int i = 1; i < chunks.size(); i++) {
      assertThat(chunks.get(i).sequence()).isGreaterThan(chunks.get(i - 1).sequence());
    }
  }
}
