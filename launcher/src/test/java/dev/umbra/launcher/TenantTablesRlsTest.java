package dev.umbra.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.db.Migrations;
import dev.umbra.kit.db.PgLocation;
import dev.umbra.kit.testing.PostgresPerClass;
import dev.umbra.kit.testing.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * DESIGN.md §3 without exceptions: after every service's migrations ran (the same {@link
 * Migrations#prepare} each service runs at start), the catalog lists every table of every schema
 * that has a {@code workspace_id} column, and each must have ENABLE and FORCE row-level security
 * and at least one policy.
 */
class TenantTablesRlsTest {
  @RegisterExtension static final PostgresPerClass pg = new PostgresPerClass();

  @BeforeAll
  static void migrateEveryService() {
    for (ServiceName s : ServiceName.values()) {
      if (s.usesPostgres()) {
        Migrations.prepare(pg.location(), s.schema(), Optional.empty(), "umbra_app");
      }
    }
  }

  private record TenantTable(String name, boolean enabled, boolean forced, int policies) {}

  private static List<TenantTable> tablesWithWorkspaceId() throws Exception {
    List<TenantTable> out = new ArrayList<>();
    try (Connection c = pg.ownerConnection();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                """
            SELECT n.nspname || '.' || t.relname AS name, t.relrowsecurity, t.relforcerowsecurity,
                   (SELECT count(*) FROM pg_policy p WHERE p.polrelid = t.oid) AS policies
            FROM pg_class t
            JOIN pg_namespace n ON n.oid = t.relnamespace
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attname = 'workspace_id' AND NOT a.attisdropped
            WHERE t.relkind IN ('r', 'p')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
            ORDER BY 1""")) {
      while (rs.next()) {
        out.add(new TenantTable(rs.getString(1), rs.getBoolean(2), rs.getBoolean(3), rs.getInt(4)));
      }
    }
    return out;
  }

  @Test
  void everyTableWithAWorkspaceIdInEverySchemaHasForcedRowLevelSecurityAndAPolicy()
      throws Exception {
    List<TenantTable> tables = tablesWithWorkspaceId();
    Set<String> schemas = new TreeSet<>();
    tables.forEach(t -> schemas.add(t.name().substring(0, t.name().indexOf('.'))));
    // the scan reaches every service's schema that keeps tenant data, not only some
    assertThat(schemas).containsExactlyInAnyOrder("control_plane", "pairing", "audit", "webtty");
    List<String> exempt =
        tables.stream()
            .filter(t -> !t.enabled() || !t.forced() || t.policies() == 0)
            .map(
                t ->
                    t.name()
                        + " (enable="
                        + t.enabled()
                        + ", force="
                        + t.forced()
                        + ", policies="
                        + t.policies()
                        + ")")
            .toList();
    assertThat(exempt)
        .as("tables with workspace_id lacking ENABLE+FORCE RLS or a policy")
        .isEmpty();
  }

  @Test
  void theSweepFunctionsAreSecurityDefinerWithAFixedSearchPathAndOnlyTheRequestRoleMayCallThem()
      throws Exception {
    sweepFunctionIsNarrow("webtty", "expired_sessions");
    sweepFunctionIsNarrow("control_plane", "webhook_due_workspaces");
  }

  private static void sweepFunctionIsNarrow(String schema, String function) throws Exception {
    try (Connection c = pg.ownerConnection();
        java.sql.PreparedStatement st =
            c.prepareStatement(
                """
            SELECT p.prosecdef, array_to_string(p.proconfig, ','),
                   has_function_privilege('umbra_app', p.oid, 'EXECUTE'),
                   has_function_privilege('public', p.oid, 'EXECUTE')
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = ? AND p.proname = ?""")) {
      st.setString(1, schema);
      st.setString(2, function);
      ResultSet rs = st.executeQuery();
      assertThat(rs.next()).as(schema + "." + function + " exists").isTrue();
      assertThat(rs.getBoolean(1)).as("SECURITY DEFINER").isTrue();
      assertThat(rs.getString(2))
          .as("fixed search_path")
          .isEqualTo("search_path=pg_catalog, pg_temp");
      assertThat(rs.getBoolean(3)).as("request role may execute").isTrue();
      assertThat(rs.getBoolean(4)).as("PUBLIC may not execute").isFalse();
    }
  }

  @Test
  void theSweepFunctionSeesExpiredSessionsOfEveryWorkspaceWhenTheOwnerIsNoSuperuser()
      throws Exception {
    // production shape: the schema owner is an ordinary role, so FORCE applies RLS to it too
    String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    String owner = "umbra_t_owner_" + suffix;
    String app = "umbra_t_app_" + suffix;
    try (TestPostgres db = TestPostgres.createDatabase()) {
      try (Connection c = db.ownerConnection();
          Statement st = c.createStatement()) {
        st.execute("CREATE ROLE " + owner + " LOGIN NOSUPERUSER NOBYPASSRLS CREATEROLE");
        st.execute("GRANT CREATE ON DATABASE " + db.location().database() + " TO " + owner);
      }
      try {
        PgLocation asOwner = db.location().withUser(owner, null);
        PgLocation login = Migrations.prepare(asOwner, "webtty", Optional.empty(), app);
        UUID a = UUID.randomUUID();
        UUID b = UUID.randomUUID();
        try (Connection c =
                DriverManager.getConnection(asOwner.jdbcUrl(), asOwner.jdbcProperties());
            Statement st = c.createStatement()) {
          for (UUID ws : List.of(a, b)) {
            st.execute("BEGIN");
            st.execute("SELECT set_config('umbra.workspace_id', '" + ws + "', true)");
            st.execute(
                "INSERT INTO webtty.sessions (workspace_id, session_id, server_id, opened_by, recording, started_at, ended_at, header) "
                    + "VALUES ('"
                    + ws
                    + "', 'old', 'm', 'ivy', true, now() - interval '2 days', now() - interval '2 days', '\\\\x01')");
            st.execute("COMMIT");
          }
        }
        try (Connection c = DriverManager.getConnection(login.jdbcUrl(), login.jdbcProperties());
            Statement st = c.createStatement()) {
          List<String> found = new ArrayList<>();
          try (ResultSet rs =
              st.executeQuery(
                  "SELECT workspace_id FROM webtty.expired_sessions(now() - interval '1 day', 1000)")) {
            while (rs.next()) {
              found.add(rs.getString(1));
            }
          }
          assertThat(found).containsExactlyInAnyOrder(a.toString(), b.toString());
          // the request role itself still sees no session outside its workspace
          try (ResultSet rs = st.executeQuery("SELECT count(*) FROM webtty.sessions")) {
            rs.next();
            assertThat(rs.getLong(1)).isZero();
          }
        }
      } finally {
        try (Connection c = db.ownerConnection();
            Statement st = c.createStatement()) {
          st.execute("DROP SCHEMA IF EXISTS webtty CASCADE");
          st.execute("DROP OWNED BY " + app + ", " + owner);
          st.execute("DROP ROLE IF EXISTS " + app);
          st.execute("DROP ROLE IF EXISTS " + owner);
        }
      }
    }
  }
}
