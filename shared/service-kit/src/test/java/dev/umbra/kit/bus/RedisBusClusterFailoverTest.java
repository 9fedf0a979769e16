package dev.umbra.kit.bus;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.revocation.RevocationChannel;
import dev.umbra.kit.revocation.RevocationList;
import dev.umbra.kit.revocation.RevocationPublisher;
import dev.umbra.kit.revocation.Revoked;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.Futures;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestRedisCluster;
import dev.umbra.proto.bus.RevokedKind;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The bus follows a Redis Cluster failover by itself (3 masters, 3 replicas): after the master that
 * holds the revocation log, a channel, a stream and a presence key fails over to its replica (by an
 * operator's {@code CLUSTER FAILOVER}, then by the master's SIGKILL), the same two instances (no
 * restart) hear each other's sharded publishes again, read and append the stream with the same
 * consumer group, use the presence key, and both learn a revocation published during the failover
 * and one published after it. {@link Bus#ping} (what {@code /healthz} asks) fails while a master is
 * dead and its slots are not yet served, and succeeds again afterwards.
 */
@ExtendWith(VertxExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RedisBusClusterFailoverTest {
  @RegisterExtension static final TestRedisCluster cluster = TestRedisCluster.withReplicas();
  private static final Duration WITHIN = Duration.ofSeconds(5);
  private static final Duration RESUMES_WITHIN = Duration.ofSeconds(20);
  private static final UUID WS = UUID.randomUUID();

  @Test
  @Order(1)
  @Timeout(60)
  void pubSubStreamsPresenceAndRevocationsResumeAfterAnOperatorsClusterFailover(Vertx vertx)
      throws Exception {
    survives(vertx, cluster::failover, false);
  }

  /** Runs after the manual failover: every master has a replica again by then. */
  @Test
  @Order(2)
  @Timeout(60)
  void pubSubStreamsPresenceAndRevocationsResumeAndHealthRecoversAfterAMasterIsKilled(Vertx vertx)
      throws Exception {
    survives(vertx, cluster::killMaster, true);
  }

  /** A way the Cluster fails over: the master's port and what to do meanwhile; the new master. */
  private interface Failover {
    int run(int master, Runnable meanwhile);
  }

  private static String on(int master, String prefix, String base) {
    for (int i = 0; ; i++) {
      String name = base + i;
      if (cluster.masterOf(prefix + name) == master) {
        return name;
      }
    }
  }

  private static void survives(Vertx vertx, Failover failover, boolean degrades) throws Exception {
    String prefix = TestRedis.randomPrefix();
    int victim = cluster.masterOf(prefix + RevocationChannel.LOG);
    String channel = on(victim, prefix, "umbra.test.failover.ch");
    String stream = on(victim, prefix, "umbra.test.failover.log");
    String key = on(victim, prefix, "umbra.test.failover.presence");
    RedisBus one = RedisBus.create(vertx, cluster.url(), prefix);
    RedisBus other = RedisBus.create(vertx, cluster.url(), prefix);
    List<RevocationList> lists = new ArrayList<>();
    List<Set<String>> learned = new ArrayList<>();
    List<Boolean> pings = new CopyOnWriteArrayList<>();
    long pinger = -1;
    try {
      for (RedisBus bus : List.of(one, other)) {
        RevocationList list =
            new RevocationList(
                vertx,
                bus,
                Clock.systemUTC(),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                "test");
        Set<String> subjects = ConcurrentHashMap.newKeySet();
        list.onRevoked(r -> subjects.add(r.subject()));
        Futures.await(list.start(), WITHIN);
        lists.add(list);
        learned.add(subjects);
      }
      List<String> heard = new CopyOnWriteArrayList<>();
      Futures.await(one.subscribe(channel, m -> heard.add(m.body().toString())), WITHIN);
      Futures.await(one.ensureGroup(stream, "g"), WITHIN);
      Futures.await(other.append(stream, Buffer.buffer("before"), 100), WITHIN);
      assertThat(Futures.await(one.readGroup(stream, "g", "c", 10, Duration.ZERO), WITHIN))
          .extracting(e -> e.body().toString())
          .containsExactly("before");
      Futures.await(one.putExpiring(key, "holder-1", Duration.ofMinutes(1)), WITHIN);
      Futures.await(other.publish(channel, Buffer.buffer("before")), WITHIN);
      Eventually.await("heard before the failover", WITHIN, () -> heard.contains("before"));
      cluster.awaitReplicated(victim);

      pinger = vertx.setPeriodic(50, t -> one.ping().onComplete(ar -> pings.add(ar.succeeded())));
      RevocationPublisher publisher = new RevocationPublisher(vertx, other);
      AtomicReference<io.vertx.core.Future<Void>> during = new AtomicReference<>();
      // published while the master is dead or handing over: the publisher retries until the log
      // on the new master takes it
      int newMaster =
          failover.run(
              victim,
              () ->
                  during.set(
                      publisher.publish(
                          Revoked.message(
                              RevokedKind.REVOKED_KIND_MACHINE,
                              WS,
                              "during",
                              null,
                              Clock.systemUTC().instant()))));
      assertThat(newMaster).isNotEqualTo(victim);
      assertThat(cluster.masterOf(prefix + RevocationChannel.LOG)).isEqualTo(newMaster);
      Futures.await(during.get(), RESUMES_WITHIN);
      Futures.await(
          publisher.publish(
              Revoked.message(
                  RevokedKind.REVOKED_KIND_MACHINE,
                  WS,
                  "after",
                  null,
                  Clock.systemUTC().instant())),
          RESUMES_WITHIN);
      for (Set<String> subjects : learned) {
        Eventually.await(
            "both revocations reach every instance",
            RESUMES_WITHIN,
            () -> subjects.containsAll(List.of("during", "after")));
      }

      Eventually.await(
          "a publish after the failover reaches the subscription on the new master",
          RESUMES_WITHIN,
          () -> {
            other.publish(channel, Buffer.buffer("after"));
            return heard.contains("after");
          });
      assertThat(cluster.command(newMaster, "PUBSUB", "SHARDCHANNELS", prefix + channel))
          .as("the subscription re-established on the new master")
          .isEqualTo(prefix + channel);
      Eventually.await(
          "an append after the failover is read by the same group",
          RESUMES_WITHIN,
          () -> {
            Futures.await(other.append(stream, Buffer.buffer("after"), 100), WITHIN);
            return Futures.await(one.readGroup(stream, "g", "c", 10, Duration.ZERO), WITHIN)
                .stream()
                .anyMatch(e -> e.body().toString().equals("after"));
          });
      assertThat(Futures.await(one.range(stream, "0-0", 10), WITHIN))
          .extracting(e -> e.body().toString())
          .as("the entry from before the failover is still there")
          .startsWith("before");
      assertThat(Futures.await(other.get(key), WITHIN)).isEqualTo("holder-1");
      assertThat(Futures.await(other.deleteIfHolds(key, "holder-1"), WITHIN)).isTrue();
      Futures.await(other.putExpiring(key, "holder-2", Duration.ofMinutes(1)), WITHIN);
      assertThat(Futures.await(one.get(key), WITHIN)).isEqualTo("holder-2");

      Eventually.await(
          "ping healthy again", RESUMES_WITHIN, () -> pings.get(pings.size() - 1) == Boolean.TRUE);
      if (degrades) {
        assertThat(pings)
            .as("ping failed while the dead master's slots were unserved")
            .contains(false);
      }
      Futures.await(one.ping(), WITHIN);
      Futures.await(other.ping(), WITHIN);
    } finally {
      vertx.cancelTimer(pinger);
      for (RevocationList list : lists) {
        Futures.await(list.stop(), WITHIN);
      }
      Futures.await(one.close(), WITHIN);
      Futures.await(other.close(), WITHIN);
    }
  }
}
