package dev.umbra.bench.messaging;

import dev.umbra.kit.db.PgLocation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.Map;

/**
 * The CPU time of the PostgreSQL backends serving the bench's database (the control planes' pools),
 * read from {@code /proc/<pid>/stat} — so only when PostgreSQL runs on this machine. A backend that
 * exits between two readings takes its time with it (the pools keep theirs open).
 */
final class PgBackendsCpu {
  /** Clock ticks per second of {@code /proc/<pid>/stat} (USER_HZ: 100 on Linux). */
  private static final long TICKS_PER_SECOND = 100;

  private final PgLocation admin;
  private final String database;

  PgBackendsCpu(PgLocation admin, String database) {
    this.admin = admin;
    this.database = database;
  }

  /** User + system CPU ticks per backend pid now; empty when none can be read. */
  Map<Integer, Long> ticks() {
    Map<Integer, Long> out = new HashMap<>();
    try (Connection c = DriverManager.getConnection(admin.jdbcUrl(), admin.jdbcProperties());
        PreparedStatement st =
            c.prepareStatement("SELECT pid FROM pg_stat_activity WHERE datname = ?")) {
      st.setString(1, database);
      try (ResultSet r = st.executeQuery()) {
        while (r.next()) {
          int pid = r.getInt(1);
          Long t = read(pid);
          if (t != null) {
            out.put(pid, t);
          }
        }
      }
    } catch (Exception e) {
      return Map.of();
    }
    return out;
  }

  /** Nanoseconds of CPU the backends spent between two readings (a new backend counts from 0). */
  static long nanosBetween(Map<Integer, Long> before, Map<Integer, Long> after) {
    long ticks = 0;
    for (Map.Entry<Integer, Long> e : after.entrySet()) {
      ticks += e.getValue() - before.getOrDefault(e.getKey(), 0L);
    }
    return ticks * (1_000_000_000L / TICKS_PER_SECOND);
  }

  private static Long read(int pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
      // fields after the command name (which may hold spaces) in parentheses; utime, stime: 14, 15
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
