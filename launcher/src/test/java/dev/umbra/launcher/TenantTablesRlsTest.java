package dev.umbra.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.db.Migrations;
import dev.umbra.kit.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md §3 without exceptions: after every service's migrations ran (the same
 * {@link Migrations#prepare} each service runs at start), the catalog lists every table of every
 * schema that has a {@code workspace_id} column, and each must have ENABLE and FORCE row-level
 * security and at least one policy.
 */
class TenantTablesRlsTest {
  private static TestPostgres pg;

  @BeforeAll
  static void migrateEveryService() {
    pg = TestPostgres.createDatabase();
    for (ServiceName s : ServiceName.values()) {
      if (s.usesPostgres()) {
        Migrations.prepare(pg.location(), s.schema(), Optional.empty(), "umbra_app");
      }
    }
  }

  @AfterAll
  static void drop() {
    pg.close();
  }

  private record TenantTable(String name, boolean enabled, boolean forced, int policies) {}

  private static List<TenantTable> tablesWithWorkspaceId() throws Exception {
    List<TenantTable> out = new ArrayList<>();
    try (Connection c = pg.ownerConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("""
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
  void everyTableWithAWorkspaceIdInEverySchemaHasForcedRowLevelSecurityAndAPolicy() throws Exception {
    List<TenantTable> tables = tablesWithWorkspaceId();
    Set<String> schemas = new TreeSet<>();
    tables.forEach(t -> schemas.add(t.name().substring(0, t.name().indexOf('.'))));
    // the scan reaches every service's schema that keeps tenant data, not only some
    assertThat(schemas).containsExactlyInAnyOrder("control_plane", "pairing", "audit", "webtty");
    List<String> exempt = tables.stream()
        .filter(t -> !t.enabled() || !t.forced() || t.policies() == 0)
        .map(t -> t.name() + " (enable=" + t.enabled() + ", force=" + t.forced() + ", policies=" + t.policies() + ")")
        .toList();
    assertThat(exempt).as("tables with workspace_id lacking ENABLE+FORCE RLS or a policy").isEmpty();
  }

  @Test
  void theSweepFunctionIsSecurityDefinerWithAFixedSearchPathAndOnlyTheRequestRoleMayCallIt() throws Exception {
    try (Connection c = pg.ownerConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("""
            SELECT p.prosecdef, array_to_string(p.proconfig, ','),
                   has_function_privilege('umbra_app', p.oid, 'EXECUTE'),
                   has_function_privilege('public', p.oid, 'EXECUTE')
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'webtty' AND p.proname = 'expired_sessions'""")) {
      assertThat(rs.next()).as("webtty.expired_sessions exists").isTrue();
      assertThat(rs.getBoolean(1)).as("SECURITY DEFINER").isTrue();
      assertThat(rs.getString(2)).as("fixed search_path").isEqualTo("search_path=pg_catalog, pg_temp");
      assertThat(rs.getBoolean(3)).as("request role may execute").isTrue();
      assertThat(rs.getBoolean(4)).as("PUBLIC may not execute").isFalse();
    }
  }
}
