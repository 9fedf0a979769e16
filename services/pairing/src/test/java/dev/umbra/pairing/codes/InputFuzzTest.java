package dev.umbra.pairing.codes;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.SeedMutations;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the pairing API's input validation, fed the bodies and parameters of its routes
 * (create code, set PSK, redeem — redemption is unauthenticated) without a server. Contract: input
 * is refused with a 400 {@link Requests.Invalid} naming a field of the route (or no field for a
 * body that is not a JSON object) and nothing else; what is admitted has the documented shape (keys
 * as 64 lowercase hex digits, a canonical UUID, bounded printable text).
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
        case 0 -> Requests.bool(Requests.body(raw, allowed), "require_psk", false);
        case 1 ->
            assertThat(
                    Requests.verbatim(
                        Requests.body(raw, allowed), "psk", CodeRoutes.PSK_MIN, CodeRoutes.PSK_MAX))
                .hasSizeBetween(CodeRoutes.PSK_MIN, CodeRoutes.PSK_MAX);
        case 2 -> {
          Redemption r = Redemption.parse(Requests.body(raw, allowed));
          assertThat(r.code()).hasSizeBetween(1, 64);
          assertThat(r.installId().toString()).isEqualToIgnoringCase(rawMember(raw, "install_id"));
          assertThat(r.x25519()).matches("[0-9a-f]{64}");
          assertThat(r.ed25519()).matches("[0-9a-f]{64}");
          assertThat(r.name()).hasSizeBetween(1, 64).doesNotContainPattern("\\p{Cntrl}");
          assertThat(r.os()).hasSizeBetween(1, 64);
          if (r.psk() != null) {
            assertThat(r.psk()).hasSizeBetween(1, CodeRoutes.PSK_MAX);
          }
        }
        default -> Requests.uuid(raw, "code_id");
      }
    } catch (Requests.Invalid e) {
      assertThat(e.status()).isEqualTo(400);
      if (e.field() != null) {
        assertThat(e.field().length()).isLessThanOrEqualTo(Requests.MAX_ECHOED_FIELD);
        if (!allowed.contains(e.field()) && !e.field().equals("code_id")) {
          assertThat(e.refusal())
              .as("a field not of the route is named only as unknown")
              .isEqualTo(Requests.Refusal.UNKNOWN_FIELD);
          assertThat(e.getMessage()).startsWith("unknown field '");
        }
      }
    }
  }

  private static String rawMember(String raw, String member) {
    return new JsonObject(raw).getString(member);
  }
}
