package dev.umbra.kit.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.PostgresPerClass;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Instances of one service starting at once on a fresh database (the chaos suite's cluster, a
 * rollout) each prepare the same schema: none may fail on the others' GRANTs ("tuple concurrently
 * updated" made a webtty-engine instance exit at start).
 */
class MigrationsConcurrencyTest {
  @RegisterExtension static final PostgresPerClass pg = new PostgresPerClass();

  @Test
  void fourInstancesPreparingTheSameFreshSchemaAtOnceAllStart() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      for (int round = 0; round < 5; round++) {
        try (Connection c = pg.ownerConnection();
            Statement st = c.createStatement()) {
          st.execute("DROP SCHEMA IF EXISTS kittest CASCADE");
        }
        List<Callable<PgLocation>> starts = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
          starts.add(
              () -> Migrations.prepare(pg.location(), "kittest", Optional.empty(), "umbra_app"));
        }
        for (Future<PgLocation> f : pool.invokeAll(starts)) {
          assertThat(f.get().user()).isEqualTo("umbra_app");
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
