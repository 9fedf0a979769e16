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
}
