package dev.umbra.controlplane.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.kit.http.ApiException;
import dev.umbra.proto.SeedMutations;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the batch parser ({@link SendBatch}, {@code POST /messages/batch}), without a
 * server. Contract: a batch is refused whole only with a 400; an admitted batch has 1 to {@value
 * SendBatch#MAX_MESSAGES} messages, each either parsed within the limits of a single send or
 * refused alone with a 400 — never another exception.
 */
class SendBatchFuzzTest {
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "batchesAreRefusedWholeWith400OrEachMessageParsedOrRefusedInItsPlace",
                3_000,
                input -> check(new String(input, StandardCharsets.UTF_8))))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void batchesAreRefusedWholeWith400OrEachMessageParsedOrRefusedInItsPlace(
      FuzzedDataProvider data) {
    check(data.consumeRemainingAsString());
  }

  private static void check(String raw) {
    SendBatch batch;
    try {
      batch = SendBatch.parse(raw);
    } catch (ApiException e) {
      assertThat(e.status()).isEqualTo(400);
      return;
    }
    assertThat(batch.items()).hasSizeBetween(1, SendBatch.MAX_MESSAGES);
    for (SendBatch.Item item : batch.items()) {
      assertThat(item.send() == null).isNotEqualTo(item.refused() == null);
      if (item.refused() != null) {
        assertThat(item.refused().status()).isEqualTo(400);
        continue;
      }
      assertThat(item.id()).isEqualTo(item.send().id());
      assertThat(item.send().copies()).hasSizeBetween(1, MessageRoutes.MAX_COPIES);
      item.send()
          .copies()
          .values()
          .forEach(c -> assertThat(c).hasSizeBetween(1, MessageRoutes.MAX_CIPHERTEXT));
    }
  }
}
