package dev.umbra.kit.db;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prepares a service's schema, blocking (run it off the event loop): creates the database when
 * missing, the application role (not owner, not BYPASSRLS), runs the Flyway migrations in
 * {@code classpath:db/migration/<schema>} and grants the role what it may touch.
 */
public final class Migrations {
  private static final Logger log = LoggerFactory.getLogger(Migrations.class);

  private Migrations() {}

  public static MigrateResult prepare(PgLocation pg, String schema, String appRole) {
    ensureDatabase(pg);
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), pg.jdbcProperties());
        Statement st = c.createStatement()) {
      ensureRole(st, appRole);
      MigrateResult result =
          Flyway.configure()
              .dataSource(pg.jdbcUrl(), pg.user(), pg.password())
              .schemas(schema)
              .createSchemas(true)
              .locations("classpath:db/migration/" + schema)
              .placeholders(Map.of("app_role", appRole))
              .loggers("slf4j")
              .load()
              .migrate();
      st.execute("GRANT USAGE ON SCHEMA " + schema + " TO " + appRole);
      st.execute(
          "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + schema + " TO " + appRole);
      st.execute("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA " + schema + " TO " + appRole);
      st.execute("REVOKE ALL ON " + schema + ".flyway_schema_history FROM " + appRole);
      if (result.migrationsExecuted > 0) {
        log.info("schema {} migrated to version {}", schema, result.targetSchemaVersion);
      }
      return result;
    } catch (SQLException e) {
      throw new DatabaseException(
          "cannot prepare schema " + schema + " at " + pg + ": " + e.getMessage(), e);
    }
  }

  private static void ensureRole(Statement st, String role) throws SQLException {
    try {
      st.execute(
          "DO $$ BEGIN CREATE ROLE "
              + role
              + " NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT; "
              + "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$");
    } catch (SQLException e) {
      log.debug("role {} not created: {}", role, e.getMessage());
    }
    // The service connects as the owner and switches to the app role per transaction (SET LOCAL
    // ROLE), so the owner must be a member of it; superusers already may.
    try {
      st.execute("GRANT " + role + " TO CURRENT_USER");
    } catch (SQLException e) {
      log.debug("grant of {} skipped: {}", role, e.getMessage());
    }
  }

  private static void ensureDatabase(PgLocation pg) {
    try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), pg.jdbcProperties())) {
      return;
    } catch (SQLException e) {
      if (!"3D000".equals(e.getSQLState())) {
        throw new DatabaseException(
            "PostgreSQL at "
                + pg
                + " is unreachable ("
                + e.getMessage()
                + "); start PostgreSQL or set UMBRA_PG_URL",
            e);
      }
    }
    PgLocation admin = pg.withDatabase("postgres");
    try (Connection c = DriverManager.getConnection(admin.jdbcUrl(), admin.jdbcProperties());
        Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE \"" + pg.database().replace("\"", "") + "\"");
      log.info("created database {}", pg.database());
    } catch (SQLException e) {
      if (!"42P04".equals(e.getSQLState()) && !"23505".equals(e.getSQLState())) { // created concurrently is fine
        throw new DatabaseException(
            "database " + pg.database() + " does not exist and cannot be created: " + e.getMessage(), e);
      }
    }
  }
}
