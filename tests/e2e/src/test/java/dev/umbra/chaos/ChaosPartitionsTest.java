package dev.umbra.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.chaos.ChaosCluster.Instance;
import dev.umbra.chaos.ChaosCluster.Shape;
import dev.umbra.chaos.ChaosCluster.Svc;
import dev.umbra.chaos.ChaosLoad.Fault;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TcpProxy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The chaos suite's network faults and crashes (issue 20, docs/chaos.md), on its own cluster of
 * {@link ChaosSuiteTest}'s shape under the same load ({@link ChaosLoad}), with two differences:
 * every instance reaches Redis, PostgreSQL and (a relay) its peer relay through a {@link TcpProxy}
 * of the test's, and HAProxy checks {@code /healthz}, so an instance that says 503 is taken out of
 * rotation. One at a time: the relays' mesh link is cut (reset) and then black-holed while both
 * relays live; one instance of every service is partitioned from Redis, then one of each that uses
 * it from PostgreSQL (black-holed, never closed), while the other instances serve; PostgreSQL and
 * then Redis are killed with SIGKILL while messages and audit events flow. After each, the same
 * checks as the suite's: bytes intact, the terminal ran what was typed, every message the sender
 * was told was accepted arrived once with one audit event, the chain verifies, 503 while broken and
 * 200 after.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ChaosPartitionsTest extends ChaosFixture {
  final Map<Instance, TcpProxy> toRedis = new ConcurrentHashMap<>();
  final Map<Instance, TcpProxy> toPostgres = new ConcurrentHashMap<>();
  final Map<Instance, TcpProxy> mesh = new ConcurrentHashMap<>();

  @BeforeAll
  // ten JVMs, HAProxy, PostgreSQL, Redis, three CLI processes: about 40 s on a quiet machine; at a
  // load of 30 on two cores (other builds) the set-up alone took over 5 minutes
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void start() throws Exception {
    ChaosCluster.assumeAvailable("CHAOS PARTITIONS");
    started = System.nanoTime();
    cluster = ChaosCluster.start(new Shape(this::throughProxies, true, "chaos-partitions"));
    load = ChaosLoad.start(cluster);
    System.out.printf(
        "chaos partitions: cluster and clients up in %d ms%n",
        (System.nanoTime() - started) / 1_000_000);
  }

  /** Each instance's Redis, PostgreSQL and mesh address: a proxy of its own (made once). */
  private Map<String, String> throughProxies(ChaosCluster c, Instance i) {
    TcpProxy redis = toRedis.computeIfAbsent(i, k -> proxy(c.redis.url().getPort()));
    Map<String, String> settings = new java.util.HashMap<>();
    settings.put("UMBRA_REDIS_URL", "redis://127.0.0.1:" + redis.port());
    if (i.svc().usesPostgres()) {
      TcpProxy pg = toPostgres.computeIfAbsent(i, k -> proxy(c.pg.port()));
      settings.put("UMBRA_PG_URL", "postgresql://postgres@127.0.0.1:" + pg.port() + "/umbra");
    } else {
      // the address the other relay dials for this one's mesh endpoint
      TcpProxy link = mesh.computeIfAbsent(i, k -> proxy(i.port()));
      settings.put("UMBRA_RELAY_MESH_URL", "ws://127.0.0.1:" + link.port() + "/v1/relay/mesh");
    }
    return settings;
  }

  private TcpProxy proxy(int target) {
    try {
      TcpProxy p = new TcpProxy(target);
      closeAfter.add(p);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  String label() {
    return "chaos partitions";
  }

  /** Frames between the relays' clients cross the mesh: the daemon and the forward are split. */
  private long meshConnections() {
    return mesh.values().stream().mapToLong(p -> p.connections.get()).sum();
  }

  @Test
  @Order(1)
  void cuttingTheRelayMeshLinkWhileBothRelaysLiveLosesNothing() throws Exception {
    ForwardStream probe = new ForwardStream(load.sink);
    probe.start(load.forwardPort);
    try {
      Eventually.await(
          "the forward's frames cross a mesh link (daemon and forward on different relays)",
          ChaosLoad.RECOVERY,
          () -> meshConnections() > 0 && probe.sent.get() > 256 * 1024);
    } catch (Exception | AssertionError e) {
      probe.abandon(ChaosLoad.RECOVERY.toSeconds()); // the sink is free for the next faults
      throw e;
    } finally {
      for (Instance r : cluster.instances(Svc.RELAY)) {
        for (String m :
            List.of(
                "umbra_relay_connections",
                "umbra_relay_mesh_links",
                "umbra_relay_mesh_frames_total",
                "umbra_relay_drops_total",
                "umbra_relay_hops_total")) {
          System.out.println(
              "chaos: " + r.name() + " " + m + " = " + ChaosCluster.metric(r.port(), m));
        }
      }
      System.out.println("chaos: connections through the mesh proxies " + meshConnections());
    }
    String[] digests = probe.finish(ChaosLoad.RECOVERY.toSeconds());
    assertThat(digests[1]).isEqualTo(digests[0]);
    long links = meshConnections();
    load.run(
        "relay mesh link reset",
        new Fault() {
          @Override
          public void inject() {
            mesh.values().forEach(TcpProxy::sever);
          }

          @Override
          public void recover() {
            // nothing: a cut link is the relays' to reopen
          }
        });
    assertThat(meshConnections()).as("the link was opened again").isGreaterThan(links);
  }

  @Test
  @Order(2)
  void blackHolingTheRelayMeshLinkForFiveSecondsLosesNothing() throws Exception {
    load.run(
        "relay mesh link black-holed 5 s",
        new Fault() {
          @Override
          public void inject() {
            mesh.values().forEach(TcpProxy::partition);
          }

          @Override
          public void recover() {
            try {
              // the link is no dependency of either relay's health: neither says 503 (a slow
              // answer on a loaded machine is no verdict)
              Eventually.holdsThroughout(
                  "no relay says 503 while their link is black-holed",
                  Duration.ofSeconds(5),
                  () ->
                      cluster.instances(Svc.RELAY).stream()
                          .noneMatch(r -> ChaosCluster.status(r.port()) == 503));
            } finally {
              mesh.values().forEach(TcpProxy::heal);
            }
          }
        });
  }

  @Test
  @Order(3)
  void partitioningOneInstanceOfEachServiceFromRedisLosesNothing() throws Exception {
    List<Instance> cut = loaded(Svc.values());
    partition("Redis", cut.stream().map(toRedis::get).toList(), cut);
  }

  @Test
  @Order(4)
  void partitioningOneInstanceOfEachServiceFromPostgresLosesNothing() throws Exception {
    List<Instance> cut = loaded(Svc.values()).stream().filter(i -> i.svc().usesPostgres()).toList();
    partition("PostgreSQL", cut.stream().map(toPostgres::get).toList(), cut);
  }

  @Test
  @Order(5)
  void killingPostgresLosesNoAcknowledgedWrite() throws Exception {
    List<Instance> users = cluster.all().stream().filter(i -> i.svc().usesPostgres()).toList();
    load.run(
        "kill -9 PostgreSQL", ChaosLoad.outage(cluster.pg::crash, users, cluster.pg::startServer));
  }

  @Test
  @Order(6)
  void killingRedisLosesNoAcknowledgedWrite() throws Exception {
    load.run(
        "kill -9 Redis (append-only file)",
        ChaosLoad.outage(cluster.redis::crash, cluster.all(), cluster.redis::startServer));
  }

  @Test
  @Order(7)
  void killingTheEngineInstanceUnderABrowsersTerminalLosesNothing() throws Exception {
    try (ChaosBrowser page = ChaosBrowser.open(load)) {
      // the daemon, `umbra tty` and the page share an engine instance (balanced by source
      // address): its death takes the session's home and every participant's connection
      Instance victim =
          cluster.instance(
              Svc.WEBTTY_ENGINE,
              load.busiest(Svc.WEBTTY_ENGINE, "umbra_webtty_engine_sessions_live"));
      Fault kill = load.kill(victim);
      long[] killed = new long[1];
      load.run(
          "kill -9 " + victim.name() + " under a browser's terminal",
          new Fault() {
            @Override
            public void inject() throws Exception {
              kill.inject();
              killed[0] = System.nanoTime();
              page.typeLine("echo page-during-$((40+2))");
            }

            @Override
            public void recover() throws Exception {
              kill.recover();
              try {
                page.awaitScreen("page-during-42");
              } catch (RuntimeException e) {
                throw new AssertionError(
                    "the page's terminal did not run what was typed during the kill; state "
                        + page.state()
                        + ", failovers "
                        + page.failovers()
                        + ", note '"
                        + page.note()
                        + "', the daemon's WebTTY counters "
                        + load.tty.servers().get(0).stats().snapshot()
                        + ", console "
                        + page.tab.console,
                    e);
              }
              System.out.printf(
                  "chaos: the page's terminal ran what was typed %d ms after SIGKILL of %s;"
                      + " state %s, failovers %s, note '%s'%n",
                  (System.nanoTime() - killed[0]) / 1_000_000,
                  victim.name(),
                  page.state(),
                  page.failovers(),
                  page.note());
            }

            @Override
            public boolean waitForRecovery() {
              return false;
            }
          });
      page.typeLine("echo page-after-$((40+3))");
      page.awaitScreen("page-after-43");
      assertThat(page.state()).isEqualTo("live");
      assertThat(page.failovers()).isEqualTo("1");
      assertThat(page.tab.console).noneMatch(m -> m.startsWith("pageerror"));
    }
  }

  @Test
  @Order(10)
  void everyInstanceIsHealthyAtTheEnd() {
    cluster.awaitAllHealthy();
  }

  /**
   * One instance of each of {@code services}: the one holding the load where one does (the relay
   * with the most connections, the engine holding the terminal), else the first.
   */
  private List<Instance> loaded(Svc... services) {
    List<Instance> list = new ArrayList<>();
    for (Svc s : services) {
      int n =
          switch (s) {
            case RELAY -> load.busiest(s, "umbra_relay_connections");
            case WEBTTY_ENGINE -> load.busiest(s, "umbra_webtty_engine_sessions_live");
            default -> 0;
          };
      list.add(cluster.instance(s, n));
    }
    return list;
  }

  /** Black-holes {@code proxies} (the way {@code cut} reach {@code what}) until the checks pass. */
  private void partition(String what, List<TcpProxy> proxies, List<Instance> cut) throws Exception {
    load.run(
        cut.size() + " instances partitioned from " + what,
        new Fault() {
          @Override
          public void inject() {
            proxies.forEach(TcpProxy::partition);
          }

          @Override
          public List<Instance> downWhileBroken() {
            return cut;
          }

          @Override
          public boolean servesWhileBroken() {
            return true;
          }

          @Override
          public void recover() {
            proxies.forEach(TcpProxy::heal);
          }
        });
  }
}
