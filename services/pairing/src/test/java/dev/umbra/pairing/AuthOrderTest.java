package dev.umbra.pairing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.AuthFirstWalk;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Authentication before any parsing, walked from the pairing service's router. */
@ExtendWith(VertxExtension.class)
class AuthOrderTest {
  /**
   * Public by design: redeeming a pairing code is what an unpaired machine does (the code is the
   * credential).
   */
  static final Set<String> PUBLIC = Set.of("POST /v1/redeem");

  @Test
  void everyNonPublicRouteRefusesAnUnauthenticatedMalformedRequestWith401AndNoFieldName(Vertx vertx)
      throws Exception {
    try (PairingHarness h =
        new PairingHarness(
            vertx, Map.of("UMBRA_ADMIN_TOKEN", "admin-token-for-tests-0123456789"))) {
      assertThat(AuthFirstWalk.routes(h.service.router())).containsAll(PUBLIC);
      Set<String> allowed = new HashSet<>(PUBLIC);
      allowed.addAll(AuthFirstWalk.KIT_PUBLIC);
      List<AuthFirstWalk.Probe> probes =
          AuthFirstWalk.walk(h.service.router(), h.service.actualPort(), allowed);
      assertThat(probes)
          .extracting(AuthFirstWalk.Probe::route)
          .contains("POST /v1/workspaces/:workspace_id/codes");
      assertThat(AuthFirstWalk.problems(probes)).isEmpty();
    }
  }
}
