package dev.umbra.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.RawWebSocket;
import dev.umbra.relay.testing.RelayCluster;
import dev.umbra.relay.testing.RelayCluster.Instance;
import dev.umbra.relay.testing.TestTokens;
import dev.umbra.relay.wire.Reject;
import dev.umbra.relay.wire.RelayWire;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay's WebSocket against the probe of issue 13 (findings 1, 9, 10) on a raw socket: the
 * first upgrade of a fresh instance, a deflate bomb with the extension offered, oversized frames.
 */
class RelayEdgeTest {
  private static Vertx vertx;
  private static TestTokens tokens;
  @TempDir Path home;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    tokens = RelayCluster.await(TestTokens.start(vertx));
  }

  @AfterAll
  static void stop() {
    tokens.close();
    RelayCluster.await(vertx.close());
  }

  private static RawWebSocket open(Instance i, Map<String, String> extra) throws Exception {
    Map<String, String> headers = new LinkedHashMap<>(extra);
    headers.put("Authorization", "Bearer " + tokens.member(UUID.randomUUID(), "acct"));
    return RawWebSocket.connect(
        i.service().actualPort(), RelayWire.PATH, headers, Duration.ofSeconds(10));
  }

  @Test
  void theFirstUpgradeOfAFreshInstanceCompletesWithinTwoSeconds() throws Exception {
    try (RelayCluster cluster = new RelayCluster(vertx, tokens, home, Map.of())) {
      Instance a = cluster.start();
      long t0 = System.nanoTime();
      try (RawWebSocket ws = open(a, Map.of())) {
        assertThat(ws.upgrade().status()).as(ws.upgrade().body()).isEqualTo(101);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
      }
    }
  }

  @Test
  void aDeflateBombIsNeitherNegotiatedNorInflated() throws Exception {
    try (RelayCluster cluster = new RelayCluster(vertx, tokens, home, Map.of())) {
      Instance a = cluster.start();
      try (RawWebSocket ws =
          open(
              a,
              Map.of("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"))) {
        assertThat(ws.upgrade().status()).isEqualTo(101);
        assertThat(ws.upgrade().header("sec-websocket-extensions")).isEmpty();
        long t0 = System.nanoTime();
        ws.send(2, true, RawWebSocket.deflateBomb(64 << 20));
        Optional<RawWebSocket.Frame> close = ws.awaitClose();
        close.ifPresent(f -> assertThat(f.closeCode()).isEqualTo(1002));
        // refused at the frame's header (RSV1 without a negotiated extension); the bound is loose
        // because the machines CI runs on are shared (1 s failed at load 25-45)
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
      }
    }
  }

  @Test
  void anOversizedFrameIsClosedWith1009AndCounted() throws Exception {
    try (RelayCluster cluster = new RelayCluster(vertx, tokens, home, Map.of())) {
      Instance a = cluster.start();
      try (RawWebSocket ws = open(a, Map.of())) {
        // the decoder's limit leaves room for a mesh batch around one frame; past it the length
        // header alone is refused
        ws.sendOversizedHead(
            RelayWire.DEFAULT_MAX_FRAME_BYTES + RelayWire.MESH_OVERHEAD_BYTES + 1L);
        Optional<RawWebSocket.Frame> close = ws.awaitClose();
        assertThat(close).as("a close frame, not a bare TCP close").isPresent();
        assertThat(close.get().closeCode()).isEqualTo(1009);
        assertThat(close.get().closeReason()).isNotEmpty();
      }
      // one byte over the frame limit, within the decoder's: refused before parsing, also 1009
      try (RawWebSocket ws = open(a, Map.of())) {
        ws.send(2, false, new byte[RelayWire.DEFAULT_MAX_FRAME_BYTES + 1]);
        Optional<RawWebSocket.Frame> close = ws.awaitClose();
        assertThat(close).isPresent();
        assertThat(close.get().closeCode()).isEqualTo(1009);
      }
      Eventually.await(
          "two oversized frames rejected",
          Duration.ofSeconds(5),
          () -> a.service().metrics().rejections(Reject.OVERSIZED) >= 2);
    }
  }
}
