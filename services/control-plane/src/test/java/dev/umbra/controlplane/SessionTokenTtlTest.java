package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.auth.SessionVerifier;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code UMBRA_SESSION_TOKEN_TTL_SECONDS} (docs/configuration.md): a shorter session-token life
 * than the 10 minutes is signed and published in the discovery document; one under {@value
 * ControlPlaneService#SESSION_TTL_MIN_SECONDS} s or over the 10 minutes stops the control plane,
 * named.
 */
@ExtendWith(VertxExtension.class)
class SessionTokenTtlTest {

  @Test
  void aShorterLifeIsSignedAndPublished(Vertx vertx) throws Exception {
    Harness h = new Harness(vertx, Map.of("UMBRA_SESSION_TOKEN_TTL_SECONDS", "20"));
    try {
      Harness.Owner o = h.bootstrap("dev");
      Harness.Response r =
          h.call(
              "POST",
              "/v1/sessions",
              o.token(),
              new JsonObject().put("workspace_id", o.workspaceId()).put("audience", "relay"));
      assertThat(r.status()).isEqualTo(201);
      SessionClaims c =
          new SessionVerifier(vertx, SessionVerifier.jwksUrl(h.base), "relay", h.clock)
              .verify(r.body().getString("token"))
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
      assertThat(c.expiresAt())
          .isEqualTo(
              h.clock.instant().plus(Duration.ofSeconds(20)).truncatedTo(ChronoUnit.SECONDS));
      assertThat(
              h.call("GET", "/v1/discovery", null, null)
                  .body()
                  .getLong("session_token_ttl_seconds"))
          .isEqualTo(20);
    } finally {
      h.close();
    }
  }

  @Test
  void aLifeOutsideItsBoundsStopsTheControlPlaneNamed(Vertx vertx) {
    for (String bad : new String[] {"9", "601"}) {
      assertThatThrownBy(
              () -> new Harness(vertx, Map.of("UMBRA_SESSION_TOKEN_TTL_SECONDS", bad)).close())
          .as(bad)
          .hasStackTraceContaining("UMBRA_SESSION_TOKEN_TTL_SECONDS");
    }
  }
}
