package dev.umbra.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.AuthFirstWalk;
import dev.umbra.kit.testing.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Authentication before any parsing: every audit route (queries, export, verify, tail, the
 * operator's dead letters) answers an unauthenticated request with malformed parameters and body
 * with 401 and no field name (the workspace parameter was validated first, 400 naming it).
 */
@ExtendWith(VertxExtension.class)
class AuthOrderTest {
  @Test
  void everyNonPublicRouteRefusesAnUnauthenticatedMalformedRequestWith401AndNoFieldName(Vertx vertx)
      throws Exception {
    try (TestPostgres pg = TestPostgres.createDatabase();
        AuditFixture f = new AuditFixture(vertx, pg, Map.of()).start()) {
      List<AuthFirstWalk.Probe> probes =
          AuthFirstWalk.walk(f.service.router(), f.service.actualPort(), AuthFirstWalk.KIT_PUBLIC);
      assertThat(probes)
          .extracting(AuthFirstWalk.Probe::route)
          .contains(
              "GET /v1/workspaces/:workspace/audit/events",
              "GET /v1/workspaces/:workspace/audit/tail",
              "POST /v1/admin/audit/dead-letters/:entry_id/redrive",
              "GET /admin/logs");
      assertThat(AuthFirstWalk.problems(probes)).isEmpty();
    }
  }
}
