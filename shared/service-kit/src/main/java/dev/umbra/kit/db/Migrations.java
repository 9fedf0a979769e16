package dev.umbra.kit.db;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prepares a service's schema, blocking (run it off the event loop), on its own short-lived
 * connection as the owner: creates the database when missing, runs the Flyway migrations in {@code
 * classpath:db/migration/<schema>} and grants the request role what it may touch.
 *
 * <p>The request role is a LOGIN role that the service's request pool connects as (DESIGN.md §3):
 * neither owner, superuser nor BYPASSRLS, and not a member of the owner, so {@code RESET ROLE} or
 * {@code SET ROLE <owner>} in a request transaction gains nothing. When the operator names it
 * ({@code UMBRA_PG_APP_URL}) the kit only grants to it; otherwise the kit creates or updates {@code
 * UMBRA_PG_APP_ROLE} itself (it needs CREATEROLE for that, as in dev and tests), with a password
 * derived from the owner's (none when the owner has none, e.g. local trust).
 */
public final class Migrations {
  private static final Logger log = LoggerFactory.getLogger(Migrations.class);
  private static final String PASSWORD_DOMAIN = "umbra-pg-app-login/v1\n";

  private Migrations() {}

  /**
   * Migrates {@code schema} as {@code owner} and returns where the request pool connects: {@code
   * appLogin} when given, else the kit-managed role {@code appRole}.
   */
  public static PgLocation prepare(
      PgLocation owner, String schema, Optional<PgLocation> appLogin, String appRole) {
    ensureDatabase(owner);
    PgLocation login =
        appLogin.orElseGet(() -> owner.withUser(appRole, derivedPassword(owner, appRole)));
    String role = login.user();
    try (Connection c = DriverManager.getConnection(owner.jdbcUrl(), owner.jdbcProperties());
        Statement st = c.createStatement()) {
      if (role.equals(owner.user())) {
        throw new DatabaseException(
            "the request role must not be the schema owner "
                + owner.user()
                + "; give UMBRA_PG_APP_URL another user (docs/deploy.md)",
            null);
      }
      if (appLogin.isEmpty()) {
        ensureLoginRole(st, role, login.password());
      }
      // instances of one service starting at once: their GRANTs on the schema would collide
      // ("tuple concurrently updated", the instance exits), so one prepares it at a time
      st.execute("SELECT pg_advisory_lock(hashtext('umbra-schema-" + schema + "'))");
      try {
        return migrate(owner, schema, role, login, st);
      } finally {
        st.execute("SELECT pg_advisory_unlock(hashtext('umbra-schema-" + schema + "'))");
      }
    } catch (SQLException e) {
      throw new DatabaseException(
          "cannot prepare schema " + schema + " at " + owner + ": " + e.getMessage(), e);
    }
  }

  /** Migrates {@code schema} and grants {@code role} its rights in it (under the schema's lock). */
  private static PgLocation migrate(
      PgLocation owner, String schema, String role, PgLocation login, Statement st)
      throws SQLException {
    MigrateResult result =
        Flyway.configure()
            .dataSource(owner.jdbcUrl(), owner.user(), owner.password())
            .schemas(schema)
            .createSchemas(true)
            .locations("classpath:db/migration/" + schema)
            .placeholders(Map.of("app_role", role))
            .loggers("slf4j")
            .load()
            .migrate();
    st.execute("GRANT USAGE ON SCHEMA " + schema + " TO " + role);
    st.execute(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " + schema + " TO " + role);
    st.execute("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA " + schema + " TO " + role);
    st.execute("REVOKE ALL ON " + schema + ".flyway_schema_history FROM " + role);
    if (result.migrationsExecuted > 0) {
      log.info("schema {} migrated to version {}", schema, result.targetSchemaVersion);
    }
    return login;
  }

  /**
   * Creates the request role, or brings an existing one (earlier versions made it NOLOGIN and
   * switched to it with SET LOCAL ROLE) to LOGIN without any power over row-level security.
   * Services starting at once in one cluster take an advisory lock so their ALTERs do not collide.
   */
  private static void ensureLoginRole(Statement st, String role, String password)
      throws SQLException {
    String attributes =
        " LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION NOINHERIT";
    String pw = password == null ? "" : " PASSWORD '" + scramVerifier(password, role) + "'";
    st.execute("SELECT pg_advisory_lock(hashtext('umbra-app-login-role'))");
    try {
      st.execute(
          "DO $$ BEGIN "
              + "IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '"
              + role
              + "') THEN "
              + "ALTER ROLE "
              + role
              + attributes
              + pw
              + "; "
              + "ELSE CREATE ROLE "
              + role
              + attributes
              + pw
              + "; END IF; "
              + "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$");
    } catch (SQLException e) {
      throw new DatabaseException(
          "cannot create or update the request role "
              + role
              + " ("
              + e.getMessage()
              + "); create it yourself and set UMBRA_PG_APP_URL (docs/deploy.md)",
          e);
    } finally {
      st.execute("SELECT pg_advisory_unlock(hashtext('umbra-app-login-role'))");
    }
  }

  /**
   * The kit-managed role's password: HMAC-SHA-256 of the role name keyed with the owner's password,
   * so every instance derives the same one and it reveals nothing of the owner's. Null when the
   * owner has no password (local trust or peer authentication, dev and tests).
   */
  static String derivedPassword(PgLocation owner, String role) {
    if (owner.password() == null || owner.password().isEmpty()) {
      return null;
    }
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(owner.password().getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return HexFormat.of()
          .formatHex(mac.doFinal((PASSWORD_DOMAIN + role).getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A SCRAM-SHA-256 verifier (RFC 5802/7677, PostgreSQL's stored format), so the password itself
   * never travels in a statement that a server with {@code log_statement} would log. The salt is
   * derived too, so repeated starts store the same verifier.
   */
  static String scramVerifier(String password, String role) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      byte[] salt =
          Arrays.copyOf(
              sha.digest(
                  ("umbra-pg-app-salt/v1\n" + role + "\n" + password)
                      .getBytes(StandardCharsets.UTF_8)),
              16);
      return scramVerifier(password, salt, 4096);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * PostgreSQL's SCRAM-SHA-256 verifier of {@code password} with a given salt and iteration count.
   */
  static String scramVerifier(String password, byte[] salt, int iterations) {
    try {
      SecretKeyFactory f = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256");
      byte[] salted =
          f.generateSecret(new PBEKeySpec(password.toCharArray(), salt, iterations, 256))
              .getEncoded();
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(salted, "HmacSHA256"));
      byte[] clientKey = mac.doFinal("Client Key".getBytes(StandardCharsets.US_ASCII));
      byte[] serverKey = mac.doFinal("Server Key".getBytes(StandardCharsets.US_ASCII));
      byte[] storedKey = MessageDigest.getInstance("SHA-256").digest(clientKey);
      Base64.Encoder b64 = Base64.getEncoder();
      return "SCRAM-SHA-256$"
          + iterations
          + ":"
          + b64.encodeToString(salt)
          + "$"
          + b64.encodeToString(storedKey)
          + ":"
          + b64.encodeToString(serverKey);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
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
      if (!"42P04".equals(e.getSQLState())
          && !"23505".equals(e.getSQLState())) { // created concurrently is fine
        throw new DatabaseException(
            "database "
                + pg.database()
                + " does not exist and cannot be created: "
                + e.getMessage(),
            e);
      }
    }
  }
}
