package dev.umbra.pairing.codes;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.kit.http.ApiException;
import dev.umbra.proto.SeedMutations;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the pairing API's input validation, fed the bodies and parameters of its routes
 * (create code, set PSK, redeem — redemption is unauthenticated) without a server. Contract: input
 * is refused with a 400 {@link ApiException} naming a field of the route (or no field for a body
 * that is not a JSON object) and nothing else; what is admitted has the documented shape (keys as
 * 64 lowercase hex digits, a canonical UUID, bounded printable text).
 */
class InputFuzzTest {
  /** Every build: the seeds and 3,000 deterministic mutants of them, as the body of every route. */
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "routeInputIsAdmittedWellFormedOrRefusedWith400NamingAField",
                3_000,
                input -> {
                  String raw =
                      new String(input, 0, Math.max(0, input.length - 1), StandardCharsets.UTF_8);
                  for (int route = 0; route <= 3; route++) {
                    check(route, raw);
                  }
                }))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void routeInputIsAdmittedWellFormedOrRefusedWith400NamingAField(FuzzedDataProvider data) {
    int route = data.consumeInt(0, 3);
    check(route, data.consumeRemainingAsString());
  }

  private static void check(int route, String raw) {
    Set<String> allowed =
        switch (route) {
          case 0 -> Set.of("require_psk");
          case 1 -> Set.of("psk");
          case 2 -> CodeRoutes.REDEEM_FIELDS;
          default -> Set.of();
        };
    try {
      switch (route) {
        case 0 -> Input.bool(Input.body(raw, allowed), "require_psk", false);
        case 1 ->
            assertThat(
                    Input.required(
                        Input.body(raw, allowed), "psk", CodeRoutes.PSK_MIN, CodeRoutes.PSK_MAX))
                .hasSizeBetween(CodeRoutes.PSK_MIN, CodeRoutes.PSK_MAX);
        case 2 -> {
          JsonObject body = Input.body(raw, allowed);
          assertThat(Input.required(body, "code", 1, 64).trim()).hasSizeLessThanOrEqualTo(64);
          UUID install = Input.uuid(Input.required(body, "install_id", 36, 36), "install_id");
          assertThat(install.toString()).isEqualToIgnoringCase(body.getString("install_id"));
          assertThat(Input.key32Hex(body, "x25519_public_key")).matches("[0-9a-f]{64}");
          assertThat(Input.key32Hex(body, "ed25519_public_key")).matches("[0-9a-f]{64}");
          assertThat(Input.required(body, "name", 1, 64)).doesNotContainPattern("\\p{Cntrl}");
          Input.text(body, "os", 1, 64);
          Input.text(body, "psk", 1, CodeRoutes.PSK_MAX);
        }
        default -> Input.uuid(raw, "code_id");
      }
    } catch (ApiException e) {
      assertThat(e.status()).isEqualTo(400);
      if (e.field() != null) {
        assertThat(e.field().length()).isLessThanOrEqualTo(40);
        if (!allowed.contains(e.field()) && !e.field().equals("code_id")) {
          assertThat(e.getMessage())
              .as("a field not of the route is named only as unknown")
              .isEqualTo("unknown field");
        }
      }
    }
  }
}
