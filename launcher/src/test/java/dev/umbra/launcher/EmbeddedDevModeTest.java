package dev.umbra.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `umbra dev` with its embedded PostgreSQL (no UMBRA_PG_URL), as whoever runs the tests: as root
 * the server must run as an unprivileged account; Ctrl-C must leave no PostgreSQL process behind; a
 * healthy start logs no WARN or ERROR line.
 */
class EmbeddedDevModeTest {
  @TempDir Path tmp;

  @Test
  void runsTheEmbeddedServerAsANonRootAccountQuietlyAndLeavesNothingRunningAfterCtrlC()
      throws Exception {
    Path home = tmp.resolve("home");
    Map<String, String> env = new HashMap<>();
    env.put("UMBRA_HOME", home.toString());
    for (String s : new String[] {"CONTROL_PLANE", "RELAY", "PAIRING", "AUDIT", "WEBTTY_ENGINE"}) {
      env.put("UMBRA_" + s + "_PORT", Integer.toString(ChildJvm.freePort()));
    }
    int me = uidOf(Path.of("/proc/self"));
    Path data = null;
    try (ChildJvm dev = ChildJvm.start("dev.umbra.launcher.Umbra", env, "dev")) {
      dev.awaitLine(l -> l.startsWith(DevMode.READY + " in "), 120);
      String summary = dev.awaitLine(l -> l.startsWith("embedded PostgreSQL running as"), 1);
      data = Path.of(summary.substring(summary.indexOf("data in ") + "data in ".length()).trim());
      long postmaster =
          Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).get(0).trim());
      List<Long> servers = postgresProcessesUsing(data);
      assertThat(servers).as("postgres processes of %s", data).contains(postmaster);
      for (long pid : servers) {
        int uid = uidOf(Path.of("/proc/" + pid));
        assertThat(uid).as("uid of postgres process %d", pid).isNotZero();
        if (me != 0) {
          assertThat(uid).isEqualTo(me);
        }
      }
      assertThat(uidOf(data)).isNotZero();
      assertThat(Files.getPosixFilePermissions(data))
          .isEqualTo(PosixFilePermissions.fromString("rwx------"));
      if (me == 0) {
        assertThat(summary).contains("system user '" + EmbeddedPg.SYSTEM_USER + "'");
      }

      long t0 = System.nanoTime();
      assertThat(dev.interrupt(10)).as(dev.output()).isZero();
      assertThat((System.nanoTime() - t0) / 1e9).isLessThan(10);
      assertThat(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive).orElse(false)).isFalse();
      assertThat(postgresProcessesUsing(data)).isEmpty();
      // the start and the run up to Ctrl-C; after "stopping..." the local daemon may still log its
      // reconnect attempts to services that already stopped
      String output = dev.output();
      int stopping = output.indexOf("stopping...");
      String start = stopping < 0 ? output : output.substring(0, stopping);
      assertThat(start.lines().filter(l -> l.matches("^\\S+ (WARN|ERROR) .*")).toList())
          .as("WARN/ERROR lines of a healthy start")
          .isEmpty();
    } finally {
      if (data != null && me == 0) {
        deleteRecursively(data.getParent()); // the per-UMBRA_HOME directory under /var/lib/umbra-pg
      }
    }
  }

  private static int uidOf(Path p) throws IOException {
    return (Integer) Files.getAttribute(p, "unix:uid");
  }

  /**
   * Every live process whose command line names the data directory (postmaster and its children).
   */
  private static List<Long> postgresProcessesUsing(Path data) {
    List<Long> found = new ArrayList<>();
    ProcessHandle.allProcesses()
        .forEach(
            ph -> {
              try {
                String cmd =
                    new String(
                        Files.readAllBytes(Path.of("/proc/" + ph.pid() + "/cmdline")),
                        StandardCharsets.UTF_8);
                if (cmd.contains(data.toString()) && ph.isAlive()) {
                  found.add(ph.pid());
                }
                ph.descendants()
                    .filter(d -> found.contains(ph.pid()))
                    .forEach(d -> found.add(d.pid()));
              } catch (IOException e) {
                // gone meanwhile
              }
            });
    return found;
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
