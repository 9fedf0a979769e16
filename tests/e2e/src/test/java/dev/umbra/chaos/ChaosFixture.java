package dev.umbra.chaos;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;

/**
 * What {@link ChaosSuiteTest} and {@link ChaosPartitionsTest} share besides the load: a cluster of
 * their own, the clients on it, and the tear-down (the load first, then the cluster, then whatever
 * the class put in front of the cluster's dependencies, such as the partitions' TCP proxies).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ChaosFixture {
  ChaosCluster cluster;
  ChaosLoad load;
  long started;

  /** Closed after the cluster, in order (added to while instances start). */
  final List<AutoCloseable> closeAfter = new CopyOnWriteArrayList<>();

  /** How the class's lines in the build log begin ({@code chaos}, {@code chaos partitions}). */
  abstract String label();

  @AfterAll
  void stop() throws Exception {
    if (load != null) {
      load.close();
    }
    if (started != 0) {
      System.out.printf(
          "%s: wall time %d s%n", label(), (System.nanoTime() - started) / 1_000_000_000);
    }
    if (cluster != null) {
      cluster.close();
    }
    for (AutoCloseable c : closeAfter) {
      c.close();
    }
  }
}
