package dev.umbra.pairing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.id.Ulid;
import dev.umbra.kit.testing.ParallelHttp;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.http.HttpClient;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Map;
import java.util.UUID;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The probe's parallel pairing guesses: 200 redemptions at once from one address; exactly the limit
 * are evaluated (a code lookup answered 404, or a PSK check answered 401), the others get 429
 * before anything is looked up.
 */
@ExtendWith(VertxExtension.class)
class PairingLimitConcurrencyTest {
  private static final int LIMIT = 10;
  private static final int ATTEMPTS = 200;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final UUID workspace = UUID.randomUUID();
  PairingHarness h;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    h =
        new PairingHarness(
            vertx, ParallelHttp.limitSettings("UMBRA_PAIRING_MAX_FAILURES", LIMIT, ATTEMPTS));
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  private Map<Integer, Integer> inParallel(IntFunction<JsonObject> body) throws Exception {
    return ParallelHttp.statuses(
        http,
        ATTEMPTS,
        i -> ParallelHttp.postJson(h.base.resolve("/v1/redeem"), body.apply(i).encode()));
  }

  @Test
  void evaluatesExactlyTheLimitOf200ParallelCodeGuesses() throws Exception {
    Ulid guesses = new Ulid(Clock.systemUTC(), new SecureRandom());
    Map<Integer, Integer> statuses = inParallel(i -> PairingHarness.redemption(guesses.next()));
    assertThat(statuses).isEqualTo(Map.of(404, LIMIT, 429, ATTEMPTS - LIMIT));
    assertThat(h.machinesCreated).isEmpty();
  }

  @Test
  void evaluatesExactlyTheLimitOf200ParallelPskGuesses() throws Exception {
    assertThat(
            h.call(
                    "PUT",
                    "/v1/workspaces/" + workspace + "/psk",
                    h.admin(workspace),
                    new JsonObject().put("psk", "correct horse battery staple"))
                .status())
        .isEqualTo(204);
    String code = h.createCode(workspace, true).getString("code");
    Map<Integer, Integer> statuses =
        inParallel(i -> PairingHarness.redemption(code).put("psk", "wrong horse battery " + i));
    assertThat(statuses).isEqualTo(Map.of(401, LIMIT, 429, ATTEMPTS - LIMIT));
    assertThat(h.machinesCreated).isEmpty();
  }
}
