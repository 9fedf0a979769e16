package dev.umbra.audit;

import static dev.umbra.audit.AuditFixture.await;
import static dev.umbra.audit.AuditFixture.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.bus.InProcessBus;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * `bin/umbra dev` runs the audit service over the in-process bus: ingest and verify work there too.
 */
@ExtendWith(VertxExtension.class)
class DevModeBusTest {

  @Test
  void ingestsAndVerifiesOverTheInProcessBus(Vertx vertx) throws Exception {
    try (TestPostgres pg = TestPostgres.createDatabase()) {
      InProcessBus bus = new InProcessBus(vertx);
      var config =
          TestServices.config(
              ServiceName.AUDIT,
              pg,
              TestRedis.randomPrefix(),
              Files.createTempDirectory("umbra-dev"),
              Map.of("UMBRA_ADMIN_TOKEN", AuditFixture.ADMIN_TOKEN));
      AuditService service =
          await(
              TestServices.deploy(
                  vertx, config, bus, Metrics.newRegistry(), Clock.systemUTC(), AuditService::new));
      AuditEmitter emitter =
          new AuditEmitter(bus, "control-plane", Clock.systemUTC(), Metrics.newRegistry());
      UUID ws = UUID.randomUUID();
      for (int i = 0; i < 50; i++) {
        emitter
            .event(AuditAction.DEVICE_APPROVED)
            .workspace(ws)
            .actor(AuditActor.member("owner"))
            .target("device", i)
            .success()
            .emit();
      }
      eventually(() -> count(pg) == 50, 10_000);
      JsonObject v =
          await(
                  WebClient.create(vertx)
                      .get(
                          service.actualPort(),
                          "127.0.0.1",
                          "/v1/workspaces/" + ws + "/audit/verify")
                      .bearerTokenAuthentication(AuditFixture.ADMIN_TOKEN)
                      .send())
              .bodyAsJsonObject();
      assertThat(v.getBoolean("ok")).isTrue();
      assertThat(v.getLong("checked")).isEqualTo(50);
      await(vertx.undeploy(service.deploymentID()));
    }
  }

  private static long count(TestPostgres pg) {
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM audit.events")) {
      rs.next();
      return rs.getLong(1);
    } catch (java.sql.SQLException e) {
      return 0;
    }
  }
}
