package dev.umbra.kit.testing;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A real Redis Cluster for a test class, started from Debian's {@code redis-server} on free ports
 * in a temporary directory ({@code redis-cli --cluster create}) before the class's
 * {@code @BeforeAll} methods and stopped after its last test: 3 masters, and with {@link
 * #withReplicas()} one replica each, so a master's death ({@link #killMaster}) or an operator's
 * {@code CLUSTER FAILOVER} ({@link #failover}) promotes its replica. Register it as
 * {@code @RegisterExtension static final TestRedisCluster cluster = new TestRedisCluster();}.
 */
public final class TestRedisCluster extends RedisPerClass {
  private static final int MASTERS = 3;
  private static final int CLUSTER_BUS_OFFSET = 10_000;
  private static final Duration READY = Duration.ofSeconds(30);

  private final int replicasPerMaster;
  private List<Integer> ports = List.of();
  private final Set<Integer> killed = ConcurrentHashMap.newKeySet();

  /** Three masters, no replicas. */
  public TestRedisCluster() {
    this(0);
  }

  private TestRedisCluster(int replicasPerMaster) {
    this.replicasPerMaster = replicasPerMaster;
  }

  /** Three masters with one replica each (six nodes). */
  public static TestRedisCluster withReplicas() {
    return new TestRedisCluster(1);
  }

  @Override
  protected void start(RedisProcesses servers) {
    List<Integer> started = new ArrayList<>();
    List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
    for (int i = 0; i < MASTERS * (1 + replicasPerMaster); i++) {
      int port = RedisProcesses.freePort(CLUSTER_BUS_OFFSET);
      servers.start(
          port,
          List.of(
              "--cluster-enabled",
              "yes",
              "--cluster-config-file",
              "nodes.conf",
              "--cluster-node-timeout",
              "2000",
              "--appendonly",
              "no"));
      started.add(port);
      create.add("127.0.0.1:" + port);
    }
    ports = List.copyOf(started);
    create.addAll(
        List.of("--cluster-replicas", Integer.toString(replicasPerMaster), "--cluster-yes"));
    servers.run(create, READY);
    awaitHealthy();
  }

  /**
   * Waits until every live node says {@code cluster_state:ok} and, with replicas, every master's
   * replica has its replication link up.
   */
  private void awaitHealthy() {
    for (int port : live()) {
      Eventually.await(
          "cluster_state:ok on node " + port,
          READY,
          () -> RedisProcesses.command(port, "CLUSTER", "INFO").contains("cluster_state:ok"));
    }
    for (int port : live()) {
      if (role(port).equals("slave")) {
        Eventually.await(
            "replica " + port + " has its link to its master up",
            READY,
            () -> info(port).contains("master_link_status:up"));
      }
    }
  }

  /** The Cluster as {@code UMBRA_REDIS_URL} names it: every node started as a seed. */
  public URI url() {
    check();
    StringBuilder hosts = new StringBuilder();
    for (int port : ports) {
      hosts.append(hosts.isEmpty() ? "" : ",").append("127.0.0.1:").append(port);
    }
    return URI.create("redis-cluster://" + hosts);
  }

  /** The ports of the nodes that are masters now (those killed excluded). */
  public List<Integer> ports() {
    check();
    return live().stream().filter(p -> role(p).equals("master")).toList();
  }

  private List<Integer> live() {
    return ports.stream().filter(p -> !killed.contains(p)).toList();
  }

  private static String info(int port) {
    return RedisProcesses.command(port, "INFO", "replication");
  }

  /** {@code master} or {@code slave}, as the node's own {@code ROLE} says. */
  private static String role(int port) {
    return RedisProcesses.command(port, "ROLE").split("\n")[0];
  }

  /** Freezes the node on {@code port}: its connections stay up, nothing answers (half-open). */
  public void freeze(int port) {
    servers().freeze(port);
  }

  /** Resumes the node {@link #freeze} stopped. */
  public void thaw(int port) {
    servers().thaw(port);
  }

  /** The port of the master that serves {@code key}'s slot. */
  public int masterOf(String key) {
    int any = live().get(0);
    long slot = Long.parseLong(command(any, "CLUSTER", "KEYSLOT", key));
    return ports().stream().filter(p -> owns(p, slot)).findFirst().orElseThrow();
  }

  /** The port of the live replica of the master on {@code masterPort}, if it has one. */
  public Optional<Integer> replicaOf(int masterPort) {
    String id = command(masterPort, "CLUSTER", "MYID");
    return live().stream()
        .filter(p -> p != masterPort && nodeLine(p).contains(" slave " + id + " "))
        .findFirst();
  }

  /** The line of {@code CLUSTER NODES} where the node on {@code port} describes itself. */
  private String nodeLine(int port) {
    for (String line : command(port, "CLUSTER", "NODES").split("\n")) {
      if (line.contains("myself")) {
        return line.replace("myself,", "");
      }
    }
    throw new IllegalStateException("node " + port + " does not describe itself");
  }

  /**
   * Waits until the master on {@code masterPort} has replicated every write it acknowledged to its
   * replica ({@code WAIT 1}), so a failover loses none of them.
   */
  public void awaitReplicated(int masterPort) {
    Eventually.await(
        "master " + masterPort + "'s writes reached its replica",
        READY,
        () -> command(masterPort, "WAIT", "1", "1000").equals("1"));
  }

  /**
   * Kills the master on {@code masterPort} (SIGKILL), runs {@code meanwhile} while it is dead and
   * its replica not yet promoted, then waits until the replica is master and every live node says
   * {@code cluster_state:ok}. Returns the new master's port.
   */
  public int killMaster(int masterPort, Runnable meanwhile) {
    int replica = replicaOf(masterPort).orElseThrow();
    killed.add(masterPort);
    servers().kill(masterPort);
    meanwhile.run();
    awaitPromoted(replica);
    return replica;
  }

  /**
   * Has the replica of the master on {@code masterPort} take over ({@code CLUSTER FAILOVER} on the
   * replica, as an operator does before maintenance), runs {@code meanwhile}, and waits until the
   * replica is master, the old master replicates from it and every node says {@code
   * cluster_state:ok}. Returns the new master's port.
   */
  public int failover(int masterPort, Runnable meanwhile) {
    int replica = replicaOf(masterPort).orElseThrow();
    command(replica, "CLUSTER", "FAILOVER");
    meanwhile.run();
    awaitPromoted(replica);
    Eventually.await(
        "old master " + masterPort + " replicates from " + replica,
        READY,
        () -> info(masterPort).contains("master_port:" + replica));
    awaitHealthy();
    return replica;
  }

  private void awaitPromoted(int replica) {
    Eventually.await("node " + replica + " is master", READY, () -> role(replica).equals("master"));
    for (int port : live()) {
      Eventually.await(
          "node " + port + " sees " + replica + " as master with slots",
          READY,
          () ->
              RedisProcesses.command(port, "CLUSTER", "INFO").contains("cluster_state:ok")
                  && masterOfAnySlot(port, replica));
    }
  }

  private boolean masterOfAnySlot(int observer, int port) {
    for (String line : command(observer, "CLUSTER", "NODES").split("\n")) {
      String[] f = line.trim().split(" ");
      if (f.length > 8 && f[1].startsWith("127.0.0.1:" + port + "@") && f[2].contains("master")) {
        return true;
      }
    }
    return false;
  }

  private boolean owns(int port, long slot) {
    String[] f = nodeLine(port).trim().split(" ");
    for (int i = 8; i < f.length; i++) {
      String[] r = f[i].split("-");
      long lo = Long.parseLong(r[0]);
      long hi = r.length > 1 ? Long.parseLong(r[1]) : lo;
      if (slot >= lo && slot <= hi) {
        return true;
      }
    }
    return false;
  }
}
