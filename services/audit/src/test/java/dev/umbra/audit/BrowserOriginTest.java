package dev.umbra.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.http.BrowserOrigin;
import dev.umbra.kit.testing.TestPostgres;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.junit5.VertxExtension;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The browser app, served by the control plane, reads the audit routes from the control plane's
 * origin (docs/web.md): that origin, and no other, may read; a preflight is answered before the
 * credential; a cookie is never allowed.
 */
@ExtendWith(VertxExtension.class)
class BrowserOriginTest {
  @Test
  void onlyTheControlPlanesOriginMayReadTheAuditRoutesFromABrowser(Vertx vertx) throws Exception {
    try (TestPostgres pg = TestPostgres.createDatabase();
        AuditFixture f = new AuditFixture(vertx, pg, Map.of()).start()) {
      String app = BrowserOrigin.of(f.config.publicUrls().get(ServiceName.CONTROL_PLANE)).origin();
      UUID ws = UUID.randomUUID();
      String events = "/v1/workspaces/" + ws + "/audit/events";

      HttpResponse<?> preflight =
          AuditFixture.await(
              f.http
                  .request(HttpMethod.OPTIONS, events)
                  .putHeader("origin", app)
                  .putHeader("access-control-request-method", "GET")
                  .putHeader("access-control-request-headers", "authorization")
                  .send());
      assertThat(preflight.statusCode()).isEqualTo(204);
      assertThat(preflight.getHeader("access-control-allow-origin")).isEqualTo(app);
      assertThat(preflight.getHeader("access-control-allow-headers")).contains("authorization");
      assertThat(preflight.getHeader("access-control-allow-credentials")).isNull();

      HttpResponse<?> read = read(f, ws, events, app);
      assertThat(read.statusCode()).isEqualTo(200);
      assertThat(read.getHeader("access-control-allow-origin")).isEqualTo(app);

      HttpResponse<?> refused =
          AuditFixture.await(f.http.get(events).putHeader("origin", app).send());
      assertThat(refused.statusCode()).isEqualTo(401);
      assertThat(refused.getHeader("access-control-allow-origin")).isEqualTo(app);

      for (String other : new String[] {"https://evil.example", "null", app + ".evil.example"}) {
        HttpResponse<?> r = read(f, ws, events, other);
        assertThat(r.getHeader("access-control-allow-origin")).as(other).isNull();
      }
    }
  }

  /** A GET as an owner's page of {@code origin} sends it. */
  static HttpResponse<?> read(AuditFixture f, UUID ws, String path, String origin) {
    return AuditFixture.await(
        f.http
            .get(path)
            .putHeader("origin", origin)
            .putHeader("authorization", "Bearer " + f.token(ws, "owner", "member"))
            .send());
  }
}
