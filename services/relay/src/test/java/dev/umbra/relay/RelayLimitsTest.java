package dev.umbra.relay;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.limits.TokenBucket;
import dev.umbra.relay.testing.RawPeer;
import dev.umbra.relay.testing.RelayCluster;
import dev.umbra.relay.testing.RelayCluster.Instance;
import dev.umbra.relay.testing.TestTokens;
import dev.umbra.relay.wire.Reject;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Per-IP token buckets: connections refused beyond the rate, messages paused (never dropped). */
class RelayLimitsTest {
  @RegisterExtension static final RelayCluster.Fixture fixture = new RelayCluster.Fixture();
  private final Vertx vertx = fixture.vertx();
  private final TestTokens tokens = fixture.tokens();
  @TempDir Path home;

  @Test
  void tokenBucketRefillsAtItsRateUpToItsBurst() {
    TokenBucket b = new TokenBucket(10, 2, 0);
    assertThat(b.tryTake(0)).isTrue();
    assertThat(b.tryTake(0)).isTrue();
    assertThat(b.tryTake(0)).isFalse();
    assertThat(b.tryTake(100_000_000L)).isTrue(); // 0.1 s later: one token
    assertThat(b.takeOrDebt(100_000_000L)).isEqualTo(100_000_000L); // owes one token: 0.1 s
    assertThat(b.idle(10_000_000_000L)).isTrue();
  }

  @Test
  void pausesAFastSenderInsteadOfDroppingAndRefusesConnectionsBeyondTheRate() {
    try (RelayCluster cluster =
        fixture.cluster(
            home,
            Map.of(
                "UMBRA_RELAY_MSG_RATE",
                "200",
                "UMBRA_RELAY_MSG_BURST",
                "20",
                "UMBRA_RELAY_CONN_RATE",
                "1",
                "UMBRA_RELAY_CONN_BURST",
                "3"))) {
      Instance a = cluster.start();
      UUID ws = UUID.randomUUID();
      RawPeer d = RawPeer.open(vertx, a.url(), tokens.machine(ws, "m"));
      d.send(
          RelayFrame.newBuilder()
              .setType(FrameType.FRAME_TYPE_REGISTER)
              .setWorkspaceId(ws.toString())
              .setTargetId("m")
              .build());
      assertThat(d.next().getType()).isEqualTo(FrameType.FRAME_TYPE_REGISTERED);
      RawPeer c = RawPeer.open(vertx, a.url(), tokens.member(ws, "acct"));
      RelayFrame data =
          RelayFrame.newBuilder()
              .setType(FrameType.FRAME_TYPE_DATA)
              .setWorkspaceId(ws.toString())
              .setTargetId("m")
              .setChannelId(9)
              .setPayload(ByteString.copyFromUtf8("x"))
              .build();
      long t0 = System.nanoTime();
      for (int i = 0; i < 120; i++) {
        c.send(data.toBuilder().setSequence(i).build());
      }
      for (int i = 0; i < 120; i++) {
        assertThat(d.next().getSequence()).isEqualTo(i);
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(ms).isGreaterThanOrEqualTo(300); // 100 frames beyond the burst at 200/s
      assertThat(a.service().metrics().rejections(Reject.MESSAGE_RATE)).isPositive();
      // the burst of 3 connections is spent (daemon, client): of 6 more opened at once, at most
      // one or two (refill of 1/s while they connect) get through, the rest are refused and counted
      List<CompletableFuture<RawPeer>> more = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        more.add(
            RawPeer.connect(vertx, a.url(), tokens.member(ws, "acct"))
                .toCompletionStage()
                .toCompletableFuture());
      }
      int refused = 0;
      for (CompletableFuture<RawPeer> f : more) {
        try {
          f.get(10, TimeUnit.SECONDS).close();
        } catch (Exception e) {
          refused++;
        }
      }
      assertThat(refused).isGreaterThanOrEqualTo(3);
      assertThat(a.service().metrics().rejections(Reject.CONNECTION_RATE)).isEqualTo(refused);
      c.close();
      d.close();
    }
  }

  @Test
  void countsConnectionsPerForwardedClientWhenTheBalancerIsTrusted() {
    try (RelayCluster cluster =
        fixture.cluster(
            home,
            Map.of(
                "UMBRA_RELAY_CONN_RATE",
                "1",
                "UMBRA_RELAY_CONN_BURST",
                "1",
                "UMBRA_TRUSTED_PROXIES",
                "127.0.0.0/8"))) {
      Instance a = cluster.start();
      UUID ws = UUID.randomUUID();
      RawPeer first = connectAs(a, ws, "198.51.100.1");
      // the same client again: its own bucket is spent
      assertThat(refused(a, ws, "198.51.100.1")).isTrue();
      // another client behind the same balancer has a bucket of its own
      RawPeer other = connectAs(a, ws, "203.0.113.9, 127.0.0.1");
      assertThat(a.service().metrics().rejections(Reject.CONNECTION_RATE)).isEqualTo(1);
      first.close();
      other.close();
    }
  }

  @Test
  void ignoresForwardedForFromAPeerNobodyTrusts() {
    try (RelayCluster cluster =
        fixture.cluster(
            home, Map.of("UMBRA_RELAY_CONN_RATE", "1", "UMBRA_RELAY_CONN_BURST", "1"))) {
      Instance a = cluster.start();
      UUID ws = UUID.randomUUID();
      RawPeer first = connectAs(a, ws, "198.51.100.1");
      // a header claiming another address does not buy a fresh bucket: the peer's is spent
      assertThat(refused(a, ws, "198.51.100.2")).isTrue();
      assertThat(a.service().metrics().rejections(Reject.CONNECTION_RATE)).isEqualTo(1);
      first.close();
    }
  }

  private RawPeer connectAs(Instance a, UUID ws, String forwardedFor) {
    return RelayCluster.await(
        RawPeer.connect(
            vertx, a.url(), tokens.member(ws, "acct"), Map.of("X-Forwarded-For", forwardedFor)));
  }

  private boolean refused(Instance a, UUID ws, String forwardedFor) {
    try {
      connectAs(a, ws, forwardedFor).close();
      return false;
    } catch (RuntimeException e) {
      return true;
    }
  }
}
