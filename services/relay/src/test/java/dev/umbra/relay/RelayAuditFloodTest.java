package dev.umbra.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.proto.audit.AuditEvent;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.relay.testing.RawPeer;
import dev.umbra.relay.testing.RelayCluster;
import dev.umbra.relay.testing.RelayCluster.Instance;
import dev.umbra.relay.testing.TestTokens;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The probe's audit flood: a member sends 2,000 OPENs to targets nobody serves. docs/relay.md: a
 * flood of bad frames must not become a flood of audit records.
 */
class RelayAuditFloodTest {
  private static final int OPENS = 2_000;
  private static Vertx vertx;
  private static TestTokens tokens;
  @TempDir static Path home;

  private RelayCluster cluster;
  private Instance a;
  private final UUID ws = UUID.randomUUID();

  @BeforeAll
  static void startTokens() {
    vertx = Vertx.vertx();
    tokens = RelayCluster.await(TestTokens.start(vertx));
  }

  @AfterAll
  static void stopTokens() {
    tokens.close();
    RelayCluster.await(vertx.close());
  }

  @BeforeEach
  void startRelay() {
    cluster = new RelayCluster(vertx, tokens, home, Map.of());
    a = cluster.start();
  }

  @AfterEach
  void stopRelay() {
    cluster.close();
  }

  @Test
  void twoThousandRefusedOpensBecomeAFewAuditEventsWhoseCountsAddUpToTwoThousand()
      throws Exception {
    String stream = AuditEmitter.INGEST_STREAM;
    RelayCluster.await(a.bus().ensureGroup(stream, "flood"));
    try (RawPeer c = RawPeer.open(vertx, a.url(), tokens.member(ws, "acct-" + UUID.randomUUID()))) {
      for (int i = 1; i <= OPENS; i++) {
        c.send(
            RelayFrame.newBuilder()
                .setType(FrameType.FRAME_TYPE_OPEN)
                .setWorkspaceId(ws.toString())
                .setTargetId("nobody-serves-" + i)
                .setChannelId(i)
                .setPayload(com.google.protobuf.ByteString.copyFrom(new byte[] {1}))
                .build());
      }
      Map<String, Integer> replies = new java.util.TreeMap<>();
      for (RelayFrame f = c.poll(5_000); f != null; f = c.poll(2_000)) {
        replies.merge(f.getType() + " " + f.getReason(), 1, Integer::sum);
      }
      assertThat(replies).isEqualTo(Map.of("FRAME_TYPE_CLOSE unknown_target", OPENS));
    }
    List<AuditEvent> refused = new ArrayList<>();
    long counted = 0;
    // the summary is written when the aggregation window closes
    long deadline = System.currentTimeMillis() + AuditEmitter.REFUSAL_WINDOW.toMillis() + 15_000;
    while (counted < OPENS && System.currentTimeMillis() < deadline) {
      for (var e :
          RelayCluster.await(
              a.bus().readGroup(stream, "flood", "c1", 1000, Duration.ofMillis(500)))) {
        AuditEvent ev = AuditEvent.parseFrom(e.body().getBytes());
        if (ev.getAction().equals("relay.channel_refused")) {
          refused.add(ev);
          counted += Long.parseLong(ev.getMetadataOrThrow(AuditEmitter.COUNT));
        }
      }
    }
    assertThat(counted).isEqualTo(OPENS);
    assertThat(refused).hasSizeLessThanOrEqualTo(4);
    assertThat(refused)
        .allSatisfy(
            ev -> {
              assertThat(ev.getWorkspaceId()).isEqualTo(ws.toString());
              assertThat(ev.getMetadataMap()).containsEntry("reason", "unknown_target");
            });
  }
}
