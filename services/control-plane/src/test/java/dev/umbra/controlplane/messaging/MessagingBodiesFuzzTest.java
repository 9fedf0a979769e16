package dev.umbra.controlplane.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.SeedMutations;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the messaging routes' body parsing (docs/messaging.md), without a server: a
 * send's copies, a prekey upload's one-time keys and byte fields. Contract: admitted values are
 * within the documented limits; anything else is a 400 {@link ApiException} naming a member, never
 * another exception.
 */
class MessagingBodiesFuzzTest {
  private static final Set<String> FIELDS =
      Set.of(
          "id",
          "conversation_id",
          "copies",
          "recipient_id",
          "ciphertext",
          "identity_key",
          "signed_prekey",
          "signed_prekey_id",
          "signed_prekey_expires_at",
          "one_time_prekeys",
          "ids");

  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "bodiesAreAdmittedWellFormedOrRefusedWith400NamingAMember",
                3_000,
                input -> check(new String(input, StandardCharsets.UTF_8))))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void bodiesAreAdmittedWellFormedOrRefusedWith400NamingAMember(FuzzedDataProvider data) {
    check(data.consumeRemainingAsString());
  }

  private static void check(String raw) {
    JsonObject body;
    try {
      body = Requests.body(raw, FIELDS.toArray(String[]::new));
    } catch (ApiException e) {
      assertThat(e.status()).isEqualTo(400);
      return;
    }
    refusedOrValid(
        () -> {
          Map<UUID, byte[]> copies = SendBatch.copies(body);
          assertThat(copies).hasSizeBetween(1, MessageRoutes.MAX_COPIES);
          copies
              .values()
              .forEach(c -> assertThat(c).hasSizeBetween(1, MessageRoutes.MAX_CIPHERTEXT));
        });
    refusedOrValid(
        () -> {
          List<PrekeyStore.OneTime> keys = PrekeyRoutes.oneTime(body);
          assertThat(keys).hasSizeLessThanOrEqualTo(PrekeyService.MAX_ONE_TIME_PER_UPLOAD);
          keys.forEach(k -> assertThat(k.publicKey()).hasSize(32));
        });
    refusedOrValid(
        () ->
            assertThat(Parties.bytes(body, "identity_key", 32, PrekeyRoutes.MAX_IDENTITY_KEY))
                .hasSizeBetween(32, PrekeyRoutes.MAX_IDENTITY_KEY));
    refusedOrValid(
        () ->
            assertThat(Parties.nonNegative(body, "signed_prekey_id", Integer.MAX_VALUE))
                .isBetween(0L, (long) Integer.MAX_VALUE));
  }

  private static void refusedOrValid(Runnable parse) {
    try {
      parse.run();
    } catch (ApiException e) {
      assertThat(e.status()).isEqualTo(400);
      assertThat(e.field()).isNotNull();
    }
  }
}
