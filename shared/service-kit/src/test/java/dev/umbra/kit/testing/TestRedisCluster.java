package dev.umbra.kit.testing;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real 3-master Redis Cluster for a test class, started from Debian's {@code redis-server} on
 * free ports in a temporary directory ({@code redis-cli --cluster create}, no replicas) before the
 * class's {@code @BeforeAll} methods and stopped after its last test. Register it as
 * {@code @RegisterExtension static final TestRedisCluster cluster = new TestRedisCluster();}.
 */
public final class TestRedisCluster extends RedisPerClass {
  private static final int MASTERS = 3;
  private static final int CLUSTER_BUS_OFFSET = 10_000;

  private List<Integer> ports = List.of();

  @Override
  protected void start(RedisProcesses servers) {
    List<Integer> started = new ArrayList<>();
    List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
    for (int i = 0; i < MASTERS; i++) {
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
    create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
    servers.run(create, Duration.ofSeconds(30));
    for (int port : ports) {
      Eventually.await(
          "cluster_state:ok on node " + port,
          Duration.ofSeconds(30),
          () -> RedisProcesses.command(port, "CLUSTER", "INFO").contains("cluster_state:ok"));
    }
  }

  /** The Cluster as {@code UMBRA_REDIS_URL} names it: every master as a seed. */
  public URI url() {
    check();
    StringBuilder hosts = new StringBuilder();
    for (int port : ports) {
      hosts.append(hosts.isEmpty() ? "" : ",").append("127.0.0.1:").append(port);
    }
    return URI.create("redis-cluster://" + hosts);
  }

  /** The masters' ports. */
  public List<Integer> ports() {
    check();
    return ports;
  }

  /** The port of the master that serves {@code key}'s slot. */
  public int masterOf(String key) {
    long slot = Long.parseLong(command(ports.get(0), "CLUSTER", "KEYSLOT", key));
    return ports.stream().filter(p -> owns(p, slot)).findFirst().orElseThrow();
  }

  private boolean owns(int port, long slot) {
    String[] lines = command(port, "CLUSTER", "NODES").split("\n");
    for (String line : lines) {
      if (!line.contains("myself")) {
        continue;
      }
      String[] f = line.trim().split(" ");
      for (int i = 8; i < f.length; i++) {
        String[] r = f[i].split("-");
        long lo = Long.parseLong(r[0]);
        long hi = r.length > 1 ? Long.parseLong(r[1]) : lo;
        if (slot >= lo && slot <= hi) {
          return true;
        }
      }
    }
    return false;
  }
}
