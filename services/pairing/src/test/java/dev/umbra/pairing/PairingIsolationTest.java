package dev.umbra.pairing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.bus.StreamEntry;
import dev.umbra.proto.audit.AuditEvent;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Tenant isolation of the pairing schema, and the audit trail of pairing. */
@ExtendWith(VertxExtension.class)
class PairingIsolationTest {
  PairingHarness h;
  final UUID a = UUID.randomUUID();
  final UUID b = UUID.randomUUID();

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    h = new PairingHarness(vertx, Map.of());
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  @Test
  void everyTableWithAWorkspaceIdHasForcedRowLevelSecurity() throws Exception {
    try (Connection c = h.pg.ownerConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) "
                    + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN information_schema.columns col "
                    + "ON col.table_schema = n.nspname AND col.table_name = c.relname "
                    + "WHERE n.nspname = 'pairing' AND c.relkind = 'r' AND col.column_name = 'workspace_id' ORDER BY 1")) {
      List<String> tables = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          tables.add(rs.getString(1));
          assertThat(rs.getBoolean(2)).as(rs.getString(1) + " enabled").isTrue();
          assertThat(rs.getBoolean(3)).as(rs.getString(1) + " forced").isTrue();
          assertThat(rs.getLong(4)).as(rs.getString(1) + " policies").isPositive();
        }
      }
      assertThat(tables).containsExactly("codes", "workspace_psks");
    }
  }

  @Test
  void anotherWorkspacesCodesAreInvisibleToRawSqlAsTheServiceRole() throws Exception {
    String code = h.createCode(a, false).getString("code");
    h.call(
        "PUT",
        "/v1/workspaces/" + a + "/psk",
        h.admin(a),
        new JsonObject().put("psk", "a-psk-of-sixteen-chars"));
    try (Connection c = h.pg.ownerConnection()) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        st.execute("SET LOCAL ROLE " + h.service.database().appRole());
        st.execute("SELECT set_config('umbra.workspace_id', '" + b + "', true)");
        for (String t : List.of("codes", "workspace_psks")) {
          try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pairing." + t)) {
            rs.next();
            assertThat(rs.getLong(1)).as(t).isZero();
          }
          assertThat(
                  st.executeUpdate(
                      "DELETE FROM pairing." + t + " WHERE workspace_id = '" + a + "'"))
              .isZero();
        }
        // knowing a code's hash shows that one code, and still allows no write without its
        // workspace
        String wrong = HexFormat.of().formatHex(new byte[32]);
        st.execute("SELECT set_config('umbra.pairing_code_hash', '" + wrong + "', true)");
        try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pairing.codes")) {
          rs.next();
          assertThat(rs.getLong(1)).isZero();
        }
        String right =
            HexFormat.of().formatHex(dev.umbra.crypto.secret.Blake2b256.hash(code.getBytes()));
        st.execute("SELECT set_config('umbra.pairing_code_hash', '" + right + "', true)");
        try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pairing.codes")) {
          rs.next();
          assertThat(rs.getLong(1)).isEqualTo(1);
        }
      }
      c.rollback();
    }
    // across the API: workspace b's admin cannot list or cancel a's codes
    String id =
        h.call("GET", "/v1/workspaces/" + a + "/codes", h.admin(a), null)
            .body()
            .getJsonArray("items")
            .getJsonObject(0)
            .getString("id");
    assertThat(h.call("DELETE", "/v1/workspaces/" + b + "/codes/" + id, h.admin(b), null).status())
        .isEqualTo(404);
    assertThat(h.call("DELETE", "/v1/workspaces/" + a + "/codes/" + id, h.admin(b), null).status())
        .isEqualTo(404);
    assertThat(h.call("GET", "/v1/workspaces/" + a + "/codes", h.admin(b), null).status())
        .isEqualTo(404);
    assertThat(
            h.call(
                    "PUT",
                    "/v1/workspaces/" + a + "/psk",
                    h.admin(b),
                    new JsonObject().put("psk", "x".repeat(20)))
                .status())
        .isEqualTo(404);
    assertThat(
            h.call("GET", "/v1/workspaces/" + a + "/codes", h.admin(a), null)
                .body()
                .getJsonArray("items"))
        .hasSize(1);
  }

  @Test
  void createRedeemCancelAndFailuresAreAudited() throws Exception {
    String stream = AuditEmitter.INGEST_STREAM;
    h.bus
        .ensureGroup(stream, "test")
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    String code = h.createCode(a, false).getString("code");
    h.call("POST", "/v1/redeem", null, PairingHarness.redemption(code));
    h.call("POST", "/v1/redeem", null, PairingHarness.redemption(code));
    String other = h.createCode(a, false).getString("id");
    h.call("DELETE", "/v1/workspaces/" + a + "/codes/" + other, h.admin(a), null);
    List<AuditEvent> events = new ArrayList<>();
    long deadline = System.currentTimeMillis() + 10_000;
    while (events.size() < 5 && System.currentTimeMillis() < deadline) {
      for (StreamEntry e :
          h.bus
              .readGroup(stream, "test", "c1", 100, Duration.ofMillis(500))
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS)) {
        events.add(AuditEvent.parseFrom(e.body().getBytes()));
      }
    }
    assertThat(events)
        .extracting(AuditEvent::getAction)
        .containsExactly(
            "pairing.code_created",
            "pairing.code_redeemed",
            "pairing.code_refused",
            "pairing.code_created",
            "pairing.code_cancelled");
    assertThat(events.get(2).getMetadataMap()).containsEntry("reason", "invalid_code");
    assertThat(events.get(4).getMetadataMap()).containsEntry("reason", "cancelled");
    for (AuditEvent e : events) {
      assertThat(e.toString()).doesNotContain(code);
    }
  }
}
