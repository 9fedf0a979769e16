package dev.umbra.kit.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A Sentinel-watched Redis for a test class, started from Debian's {@code redis-server} on free
 * ports in a temporary directory: one master, one replica and two Sentinels (quorum 1) monitoring
 * {@link #MASTER_NAME}. Started before the class's {@code @BeforeAll} methods, stopped after its
 * last test. Register it as {@code @RegisterExtension static final TestRedisSentinel sentinel = new
 * TestRedisSentinel();}. {@link #failover} swaps master and replica and waits until both Sentinels
 * name the new master.
 */
public final class TestRedisSentinel extends RedisPerClass {
  public static final String MASTER_NAME = "umbra-test";
  private static final Duration READY = Duration.ofSeconds(30);

  private int first;
  private int second;
  private List<Integer> sentinels = List.of();

  @Override
  protected void start(RedisProcesses servers) {
    first = RedisProcesses.freePort(0);
    second = RedisProcesses.freePort(0);
    servers.start(first, List.of("--appendonly", "no"));
    servers.start(
        second, List.of("--appendonly", "no", "--replicaof", "127.0.0.1", Integer.toString(first)));
    Eventually.await(
        "the replica's link to its master is up",
        READY,
        () -> info(second, "replication").contains("master_link_status:up"));
    sentinels = List.of(RedisProcesses.freePort(0), RedisProcesses.freePort(0));
    for (int port : sentinels) {
      servers.start(port, List.of(sentinelConfig(servers, port).toString(), "--sentinel"));
    }
    for (int port : sentinels) {
      Eventually.await(
          "Sentinel " + port + " sees the replica",
          READY,
          () -> {
            String replicas = RedisProcesses.command(port, "SENTINEL", "REPLICAS", MASTER_NAME);
            return replicas.contains("\n" + second + "\n") && replicas.contains("flags\nslave\n");
          });
    }
  }

  private Path sentinelConfig(RedisProcesses servers, int port) {
    Path conf = servers.dir().resolve("sentinel-" + port + ".conf");
    String text =
        String.join(
            "\n",
            "sentinel monitor " + MASTER_NAME + " 127.0.0.1 " + first + " 1",
            "sentinel down-after-milliseconds " + MASTER_NAME + " 1000",
            "sentinel failover-timeout " + MASTER_NAME + " 5000",
            "");
    try {
      return Files.writeString(conf, text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String info(int port, String section) {
    return RedisProcesses.command(port, "INFO", section);
  }

  /** The Sentinel set as {@code UMBRA_REDIS_URL} names it. */
  public URI url() {
    check();
    return URI.create(
        "redis-sentinel://127.0.0.1:"
            + sentinels.get(0)
            + ",127.0.0.1:"
            + sentinels.get(1)
            + "/"
            + MASTER_NAME);
  }

  /** The port of the current master, as the first Sentinel names it. */
  public int masterPort() {
    check();
    String addr =
        RedisProcesses.command(
            sentinels.get(0), "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME);
    return Integer.parseInt(addr.split("\n")[1]);
  }

  /** The port of the node that is not the master. */
  public int replicaPort() {
    return masterPort() == first ? second : first;
  }

  /**
   * Kills the master (SIGKILL) and waits until both Sentinels have noticed and named the replica
   * master and it answers as one. The set has no replica afterwards.
   */
  public void killMaster() {
    int oldMaster = masterPort();
    int newMaster = replicaPort();
    servers().kill(oldMaster);
    awaitMaster(newMaster);
  }

  private void awaitMaster(int newMaster) {
    for (int port : sentinels) {
      Eventually.await(
          "Sentinel " + port + " names " + newMaster + " as master",
          READY,
          () ->
              RedisProcesses.command(port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)
                  .endsWith("\n" + newMaster));
    }
    Eventually.await(
        "node " + newMaster + " answers as master",
        READY,
        () -> info(newMaster, "replication").contains("role:master"));
  }

  /**
   * Fails the master over to the replica (SENTINEL FAILOVER, as an operator would) and waits until
   * both Sentinels name the new master, it answers as master and the old one replicates from it.
   */
  public void failover() {
    int oldMaster = masterPort();
    int newMaster = replicaPort();
    RedisProcesses.command(sentinels.get(0), "SENTINEL", "FAILOVER", MASTER_NAME);
    awaitMaster(newMaster);
    Eventually.await(
        "node " + oldMaster + " replicates from " + newMaster,
        READY,
        () ->
            info(oldMaster, "replication").contains("master_port:" + newMaster)
                && info(oldMaster, "replication").contains("master_link_status:up"));
  }
}
