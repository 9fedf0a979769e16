package dev.umbra.kit.testing;

import dev.umbra.kit.db.PgLocation;
import java.net.URI;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One fresh {@link TestPostgres} database for a test class: created before the class's
 * {@code @BeforeAll} methods run, dropped after its last test. Register it as
 * {@code @RegisterExtension static final PostgresPerClass pg = new PostgresPerClass();}.
 */
public final class PostgresPerClass implements BeforeAllCallback, AfterAllCallback {
  private TestPostgres database;

  @Override
  public void beforeAll(ExtensionContext context) {
    database = TestPostgres.createDatabase();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (database != null) {
      database.close();
      database = null;
    }
  }

  /** The class's database; only between its first {@code @BeforeAll} and its last test. */
  public TestPostgres get() {
    if (database == null) {
      throw new IllegalStateException(
          "PostgresPerClass is used outside its test class (register it as a static field)");
    }
    return database;
  }

  public PgLocation location() {
    return get().location();
  }

  public URI url() {
    return get().url();
  }

  public Connection ownerConnection() throws SQLException {
    return get().ownerConnection();
  }
}
