package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two tenants: alice owns workspace A, bob owns workspace C (alice is not a member). Every endpoint
 * is tried across the boundary, both with the other workspace in the path and with the caller's own
 * workspace in the path but the other workspace's object ids: always 404, nothing changes.
 */
@ExtendWith(VertxExtension.class)
class TenantIsolationTest {
  Harness h;
  String alice;
  String wsA;
  String bob;
  String wsC;
  Map<String, String> a;
  Map<String, String> c;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    h = new Harness(vertx, Map.of());
    Harness.Tenants t = h.twoTenants();
    alice = t.alice();
    wsA = t.wsA();
    bob = t.bob();
    wsC = t.wsC();
    a = objects(alice, wsA);
    c = objects(bob, wsC);
  }

  /** One object of every kind in a workspace. */
  Map<String, String> objects(String token, String ws) {
    String base = "/v1/workspaces/" + ws;
    String team =
        h.call("POST", base + "/teams", token, new JsonObject().put("name", "ops"))
            .body()
            .getString("id");
    String invitation =
        h.call("POST", base + "/invitations", token, new JsonObject().put("role", "viewer"))
            .body()
            .getString("id");
    String machine = h.createMachine(ws, "m-" + ws.substring(0, 4)).body().getString("id");
    String member =
        h.call("GET", base + "/members", token, null)
            .body()
            .getJsonArray("items")
            .getJsonObject(0)
            .getString("id");
    assertThat(h.call("PUT", base + "/teams/" + team + "/members/" + member, token, null).status())
        .isEqualTo(204);
    String tokenId =
        h.call("POST", "/v1/tokens", token, new JsonObject().put("name", "t"))
            .body()
            .getString("id");
    return Map.of(
        "ws",
        ws,
        "team",
        team,
        "invitation",
        invitation,
        "machine",
        machine,
        "member",
        member,
        "token",
        tokenId);
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  record Attempt(String method, String path, JsonObject body) {}

  /** Every operation on objects {@code o}, addressed through workspace {@code ws}. */
  static List<Attempt> attempts(String ws, Map<String, String> o) {
    String base = "/v1/workspaces/" + ws;
    JsonObject name = new JsonObject().put("name", "pwned");
    return List.of(
        new Attempt("GET", base + "/machines/" + o.get("machine"), null),
        new Attempt("PATCH", base + "/machines/" + o.get("machine"), name),
        new Attempt("DELETE", base + "/machines/" + o.get("machine"), null),
        new Attempt(
            "PATCH", base + "/members/" + o.get("member"), new JsonObject().put("role", "viewer")),
        new Attempt("DELETE", base + "/members/" + o.get("member"), null),
        new Attempt("DELETE", base + "/invitations/" + o.get("invitation"), null),
        new Attempt("GET", base + "/teams/" + o.get("team"), null),
        new Attempt("DELETE", base + "/teams/" + o.get("team"), null),
        new Attempt("PUT", base + "/teams/" + o.get("team") + "/members/" + o.get("member"), null),
        new Attempt(
            "DELETE", base + "/teams/" + o.get("team") + "/members/" + o.get("member"), null),
        new Attempt("DELETE", "/v1/tokens/" + o.get("token"), null));
  }

  /** Operations that only name the workspace. */
  static List<Attempt> workspaceAttempts(String ws) {
    String base = "/v1/workspaces/" + ws;
    return List.of(
        new Attempt("GET", base, null),
        new Attempt("PATCH", base, new JsonObject().put("name", "pwned")),
        new Attempt("GET", base + "/members", null),
        new Attempt("GET", base + "/machines", null),
        new Attempt("GET", base + "/teams", null),
        new Attempt("POST", base + "/teams", new JsonObject().put("name", "intruders")),
        new Attempt("GET", base + "/invitations", null),
        new Attempt("POST", base + "/invitations", new JsonObject().put("role", "admin")),
        new Attempt(
            "POST",
            "/v1/sessions",
            new JsonObject().put("workspace_id", ws).put("audience", "relay")));
  }

  @Test
  void theOtherWorkspaceIsNotFoundThroughEveryEndpoint() throws Exception {
    String before = snapshot();
    List<String> leaks = new ArrayList<>();
    for (Attempt t : workspaceAttempts(wsC)) {
      check(leaks, alice, t);
    }
    for (Attempt t : attempts(wsC, c)) {
      check(leaks, alice, t);
    }
    // own workspace in the path, the other tenant's ids: still nothing
    for (Attempt t : attempts(wsA, c)) {
      check(leaks, alice, t);
    }
    for (Attempt t : attempts(wsC, a)) {
      check(leaks, bob, t);
    }
    assertThat(leaks).isEmpty();
    assertThat(snapshot()).isEqualTo(before);
  }

  private void check(List<String> leaks, String token, Attempt t) {
    Harness.Response r = h.call(t.method(), t.path(), token, t.body());
    if (r.status() != 404) {
      leaks.add(t.method() + " " + t.path() + " -> " + r.status() + " " + r.body());
    }
  }

  @Test
  void aMachineOfAnotherWorkspaceCannotGetASession() {
    Harness.Response r =
        h.call(
            "POST",
            "/v1/machine-sessions",
            null,
            new JsonObject()
                .put("workspace_id", wsA)
                .put("machine_id", c.get("machine"))
                .put("audience", "relay")
                .put("timestamp_ms", h.clock.millis())
                .put("signature", "00".repeat(64)));
    assertThat(r.status()).isEqualTo(401);
  }

  /** Every row of every control-plane table, as the owner sees it. */
  private String snapshot() throws Exception {
    StringBuilder sb = new StringBuilder();
    try (Connection conn = h.pg.ownerConnection();
        Statement st = conn.createStatement()) {
      for (String t :
          List.of(
              "workspaces",
              "accounts",
              "members",
              "account_workspaces",
              "invitations",
              "teams",
              "team_members",
              "machines")) {
        try (ResultSet rs =
            st.executeQuery("SELECT t::text FROM control_plane." + t + " t ORDER BY 1")) {
          while (rs.next()) {
            sb.append(t).append(':').append(rs.getString(1)).append('\n');
          }
        }
        try (ResultSet rs =
            st.executeQuery(
                "SELECT id::text, revoked_at::text FROM control_plane.api_tokens ORDER BY 1")) {
          while (rs.next()) {
            sb.append("api_tokens:").append(rs.getString(1)).append(rs.getString(2)).append('\n');
          }
        }
      }
    }
    return sb.toString();
  }

  @Test
  void rawSqlAsTheServiceRoleSeesNothingOfAnotherWorkspace() throws Exception {
    try (Connection conn = h.pg.ownerConnection()) {
      conn.setAutoCommit(false);
      List<String> tables = RlsCatalog.tenantTables(conn, "control_plane");
      assertThat(tables)
          .contains(
              "members", "machines", "invitations", "teams", "team_members", "account_workspaces");
      try (Statement st = conn.createStatement()) {
        st.execute("SET LOCAL ROLE " + h.service.database().appRole());
        st.execute("SELECT set_config('umbra.workspace_id', '" + wsC + "', true)");
        for (String t : tables) {
          try (ResultSet rs =
              st.executeQuery(
                  "SELECT count(*) FROM control_plane."
                      + t
                      + " WHERE workspace_id = '"
                      + wsA
                      + "'")) {
            rs.next();
            assertThat(rs.getLong(1)).as(t).isZero();
          }
          assertThat(
                  st.executeUpdate(
                      "UPDATE control_plane."
                          + t
                          + " SET workspace_id = workspace_id WHERE workspace_id = '"
                          + wsA
                          + "'"))
              .as(t)
              .isZero();
          assertThat(
                  st.executeUpdate(
                      "DELETE FROM control_plane." + t + " WHERE workspace_id = '" + wsA + "'"))
              .as(t)
              .isZero();
        }
        st.execute("SELECT set_config('umbra.workspace_id', '', true)");
        for (String t : tables) {
          try (ResultSet rs = st.executeQuery("SELECT count(*) FROM control_plane." + t)) {
            rs.next();
            assertThat(rs.getLong(1)).as("no workspace set: " + t).isZero();
          }
        }
      }
      conn.rollback();
    }
  }

  @Test
  void everyTableWithAWorkspaceIdHasForcedRowLevelSecurity() throws Exception {
    try (Connection conn = h.pg.ownerConnection()) {
      assertThat(RlsCatalog.tablesWithoutForcedRls(conn, "control_plane")).isEmpty();
      // the tables of this feature; others added later are covered by the line above
      assertThat(RlsCatalog.tenantTables(conn, "control_plane"))
          .contains(
              "members", "account_workspaces", "invitations", "teams", "team_members", "machines");
    }
  }
}
