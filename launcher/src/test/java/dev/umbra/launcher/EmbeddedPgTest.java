package dev.umbra.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A second {@code umbra dev} of the same home while the first runs: its embedded PostgreSQL would
 * find the first one's "ready" pid file, take it for its own, and fail later with "connection
 * refused" on a port nothing listens on (2026-12-06). It says what runs and what to do instead.
 */
class EmbeddedPgTest {
  @TempDir Path home;

  @Test
  void aSecondStartOnARunningDataDirectoryNamesTheRunningServerAndWhatToDo() throws Exception {
    try (EmbeddedPg first = EmbeddedPg.start(home)) {
      assertThatThrownBy(() -> EmbeddedPg.start(home))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("already runs (pid ")
          .hasMessageContaining(first.dataDirectory().toString())
          .hasMessageContaining("another `umbra dev` with the same UMBRA_HOME is running");
      first.ensureDatabase("still_served");
    }
    try (EmbeddedPg again = EmbeddedPg.start(home)) {
      assertThat(again.pid()).as("once the first stopped, the home starts again").isPositive();
    }
  }

  /**
   * The port is picked free and bound by the server a moment later; another process may take it in
   * between (the kernel hands a just-freed port out again). The start then tries another port
   * instead of failing; a port that stays taken fails with the server's own words.
   */
  @Test
  void aPortTakenBetweenPickingAndBindingIsReplacedByAnother() throws Exception {
    try (java.net.ServerSocket taken =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      java.util.concurrent.atomic.AtomicInteger asked =
          new java.util.concurrent.atomic.AtomicInteger();
      int[] free = new int[1];
      try (EmbeddedPg pg =
          EmbeddedPg.start(
              home,
              () -> {
                if (asked.getAndIncrement() == 0) {
                  return taken.getLocalPort();
                }
                try (java.net.ServerSocket s =
                    new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                  free[0] = s.getLocalPort();
                  return free[0];
                }
              })) {
        assertThat(asked.get()).isEqualTo(2);
        assertThat(pg.summary()).contains("127.0.0.1:" + free[0]);
        pg.ensureDatabase("served");
      }
      assertThatThrownBy(() -> EmbeddedPg.start(home, taken::getLocalPort))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("Address already in use");
    }
  }
}
