package dev.umbra.webtty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.AuthFirstWalk;
import dev.umbra.webtty.wire.WebTtyWire;
import io.vertx.core.Vertx;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Authentication before any parsing, walked from the engine's router (WebSocket and replay routes).
 */
class AuthOrderTest {
  @Test
  void everyNonPublicRouteRefusesAnUnauthenticatedMalformedRequestWith401AndNoFieldName()
      throws Exception {
    Vertx vertx = Vertx.vertx();
    try (EngineHarness h =
        new EngineHarness(
            vertx, 1, Map.of("UMBRA_ADMIN_TOKEN", "admin-token-for-tests-0123456789"))) {
      WebTtyService engine = h.engines.get(0);
      List<AuthFirstWalk.Probe> probes =
          AuthFirstWalk.walk(engine.router(), engine.actualPort(), publicRoutes());
      assertThat(probes)
          .extracting(AuthFirstWalk.Probe::route)
          .contains(
              "GET " + WebTtyWire.SERVER_PATH,
              "GET " + WebTtyWire.CLIENT_PATH,
              "GET " + WebTtyWire.RECORDINGS_PATH + "/:session",
              "GET " + WebTtyWire.SESSIONS_PATH);
      assertThat(AuthFirstWalk.problems(probes)).isEmpty();
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /**
   * The kit's public routes and the browser's CORS preflights of the recordings and live-sessions
   * routes: a preflight never carries a credential (the GET after it is authenticated first).
   */
  private static Set<String> publicRoutes() {
    Set<String> routes = new HashSet<>(AuthFirstWalk.KIT_PUBLIC);
    routes.add("OPTIONS " + WebTtyWire.RECORDINGS_PATH);
    routes.add("OPTIONS " + WebTtyWire.RECORDINGS_PATH + "/:session");
    routes.add("OPTIONS " + WebTtyWire.SESSIONS_PATH);
    return routes;
  }
}
