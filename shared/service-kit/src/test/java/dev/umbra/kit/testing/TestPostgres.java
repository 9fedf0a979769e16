package dev.umbra.kit.testing;

import dev.umbra.kit.db.PgLocation;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A fresh database on the real PostgreSQL for one test class (or run), so leftovers from an earlier
 * run never matter. Server from system property {@code umbra.test.pg.url} (set by the parent pom),
 * else {@code UMBRA_TEST_PG_URL}, else postgres@127.0.0.1:5432.
 */
public final class TestPostgres implements AutoCloseable {
  private final PgLocation admin;
  private final PgLocation location;

  private TestPostgres(PgLocation admin, PgLocation location) {
    this.admin = admin;
    this.location = location;
  }

  public static URI serverUrl() {
    String url = System.getProperty("umbra.test.pg.url");
    if (url == null || url.isBlank()) {
      url =
          System.getenv()
              .getOrDefault("UMBRA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres");
    }
    return URI.create(url);
  }

  /** Creates {@code umbra_t_<random>}; drop it with {@link #close()}. */
  public static TestPostgres createDatabase() {
    PgLocation admin = PgLocation.parse(serverUrl()).withDatabase("postgres");
    String name = "umbra_t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    try (Connection c = DriverManager.getConnection(admin.jdbcUrl(), admin.jdbcProperties());
        Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "PostgreSQL at "
              + admin
              + " is needed for this test and is unreachable: "
              + e.getMessage(),
          e);
    }
    return new TestPostgres(admin, admin.withDatabase(name));
  }

  public PgLocation location() {
    return location;
  }

  /** URL of the test database, suitable for UMBRA_PG_URL. */
  public URI url() {
    return location.toUri();
  }

  /** A JDBC connection as the owner (superuser) to the test database, for assertions. */
  public Connection ownerConnection() throws SQLException {
    return DriverManager.getConnection(location.jdbcUrl(), location.jdbcProperties());
  }

  /** The number {@code query} answers (its first column of its first row), as the owner. */
  public long number(String query) throws SQLException {
    try (Connection c = ownerConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * Every row of every base table of the test database as PostgreSQL's text form of the row, by
   * table ({@code schema.table}, a table without rows included): for tests that prove nothing
   * stored holds a secret or a plaintext.
   */
  public Map<String, List<String>> rowsAsText() throws SQLException {
    Map<String, List<String>> rows = new LinkedHashMap<>();
    try (Connection c = ownerConnection();
        Statement st = c.createStatement()) {
      try (ResultSet rs =
          st.executeQuery(
              "SELECT table_schema || '.' || table_name FROM information_schema.tables"
                  + " WHERE table_type = 'BASE TABLE'"
                  + " AND table_schema NOT IN ('pg_catalog', 'information_schema')")) {
        while (rs.next()) {
          rows.put(rs.getString(1), new ArrayList<>());
        }
      }
      for (Map.Entry<String, List<String>> table : rows.entrySet()) {
        try (ResultSet rs = st.executeQuery("SELECT t::text FROM " + table.getKey() + " t")) {
          while (rs.next()) {
            table.getValue().add(rs.getString(1));
          }
        }
      }
    }
    return rows;
  }

  @Override
  public void close() {
    try (Connection c = DriverManager.getConnection(admin.jdbcUrl(), admin.jdbcProperties());
        Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + location.database() + " WITH (FORCE)");
    } catch (SQLException e) {
      // a leftover database is harmless: every run uses a new name
    }
  }
}
