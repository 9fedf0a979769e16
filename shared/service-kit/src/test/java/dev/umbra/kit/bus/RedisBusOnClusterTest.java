package dev.umbra.kit.bus;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.Futures;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestRedisCluster;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The bus on a real 3-master Redis Cluster, as two service instances share it: sharded pub/sub
 * between instances on every master, and streams placed whole on the master of their slot.
 */
@ExtendWith(VertxExtension.class)
class RedisBusOnClusterTest {
  @RegisterExtension static final TestRedisCluster cluster = new TestRedisCluster();
  private static final Duration WITHIN = Duration.ofSeconds(10);

  @Test
  void aMessagePublishedByOneInstanceReachesASubscriberOnAnotherWhicheverMasterHoldsTheChannel(
      Vertx vertx) throws Exception {
    String prefix = TestRedis.randomPrefix();
    RedisBus publisher = RedisBus.create(vertx, cluster.url(), prefix);
    RedisBus subscriber = RedisBus.create(vertx, cluster.url(), prefix);
    try {
      // channels until every master holds at least one
      List<String> channels = new ArrayList<>();
      Set<Integer> masters = new HashSet<>();
      for (int i = 0; masters.size() < cluster.ports().size(); i++) {
        String ch = "umbra.test.cluster.ch" + i;
        if (masters.add(cluster.masterOf(prefix + ch))) {
          channels.add(ch);
        }
      }
      List<String> got = new CopyOnWriteArrayList<>();
      for (String ch : channels) {
        Futures.await(subscriber.subscribe(ch, m -> got.add(m.channel())), WITHIN);
      }
      for (String ch : channels) {
        int master = cluster.masterOf(prefix + ch);
        assertThat(cluster.command(master, "PUBSUB", "SHARDCHANNELS", prefix + ch))
            .as("sharded subscription on the channel's master")
            .isEqualTo(prefix + ch);
        assertThat(Futures.await(publisher.publish(ch, Buffer.buffer("hello")), WITHIN))
            .isEqualTo(1L);
      }
      Eventually.await("every channel delivered", WITHIN, () -> got.size() == channels.size());
      assertThat(got).containsExactlyInAnyOrderElementsOf(channels);
      for (int port : cluster.ports()) {
        assertThat(cluster.command(port, "PUBSUB", "CHANNELS", prefix + "*"))
            .as("no classic (cluster-wide) subscription on node " + port)
            .isEmpty();
      }
    } finally {
      Futures.await(publisher.close(), WITHIN);
      Futures.await(subscriber.close(), WITHIN);
    }
  }

  @Test
  void streamsWithConsumerGroupsLiveOnTheMasterOfTheirSlotAndAHashTagKeepsStreamsTogether(
      Vertx vertx) throws Exception {
    String prefix = TestRedis.randomPrefix();
    RedisBus one = RedisBus.create(vertx, cluster.url(), prefix);
    RedisBus other = RedisBus.create(vertx, cluster.url(), prefix);
    try {
      String first = "umbra.test.{ws-7}.first";
      String second = "umbra.test.{ws-7}.second";
      int master = cluster.masterOf(prefix + first);
      assertThat(cluster.masterOf(prefix + second))
          .as("same hash tag, same master")
          .isEqualTo(master);
      for (String stream : List.of(first, second)) {
        Futures.await(one.ensureGroup(stream, "g"), WITHIN);
        Futures.await(one.append(stream, Buffer.buffer("entry of " + stream), 100), WITHIN);
        List<StreamEntry> read =
            Futures.await(one.readGroup(stream, "g", "c1", 10, Duration.ZERO), WITHIN);
        assertThat(read).extracting(e -> e.body().toString()).containsExactly("entry of " + stream);
        // the other instance claims what the first one read and never acknowledged
        List<StreamEntry> claimed =
            Futures.await(other.claimPending(stream, "g", "c2", Duration.ZERO, 10), WITHIN);
        assertThat(claimed).extracting(StreamEntry::id).containsExactly(read.get(0).id());
        assertThat(claimed.get(0).deliveries()).isEqualTo(2L);
        assertThat(Futures.await(other.ack(stream, "g", List.of(read.get(0).id())), WITHIN))
            .isEqualTo(1L);
        assertThat(cluster.command(master, "XINFO", "GROUPS", prefix + stream))
            .as("the group on the stream's master")
            .contains("g\nconsumers\n2\npending\n0");
      }
    } finally {
      Futures.await(one.close(), WITHIN);
      Futures.await(other.close(), WITHIN);
    }
  }
}
