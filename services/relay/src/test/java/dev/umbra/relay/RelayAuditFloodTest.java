package dev.umbra.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.testing.Eventually;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The probe's audit flood: a member sends 2,000 OPENs to targets nobody serves. docs/relay.md: a
 * flood of bad frames must not become a flood of audit records.
 */
class RelayAuditFloodTest {
  private static final int OPENS = 2_000;

  /** How long the 2,000 answers may take on a loaded machine (quietly: well under a second). */
  private static final Duration REPLIES_WITHIN = Duration.ofSeconds(60);

  @RegisterExtension static final RelayCluster.Fixture fixture = new RelayCluster.Fixture();
  private final Vertx vertx = fixture.vertx();
  private final TestTokens tokens = fixture.tokens();
  @TempDir static Path home;

  private RelayCluster cluster;
  private Instance a;
  private final UUID ws = UUID.randomUUID();

  @BeforeEach
  void startRelay() {
    cluster = fixture.cluster(home, Map.of());
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
    long floodStart;
    long floodEnd;
    try (RawPeer c = RawPeer.open(vertx, a.url(), tokens.member(ws, "acct-" + UUID.randomUUID()))) {
      floodStart = System.nanoTime();
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
      // every OPEN is answered; a loaded machine may pause for seconds between two answers, so the
      // wait is for all of them (with a deadline), not for a quiet gap
      Map<String, Integer> replies = new java.util.TreeMap<>();
      long deadline = System.nanoTime() + REPLIES_WITHIN.toNanos();
      int got = 0;
      while (got < OPENS && System.nanoTime() - deadline < 0) {
        RelayFrame f = c.poll(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
        if (f != null) {
          replies.merge(f.getType() + " " + f.getReason(), 1, Integer::sum);
          got++;
        }
      }
      floodEnd = System.nanoTime();
      assertThat(replies).isEqualTo(Map.of("FRAME_TYPE_CLOSE unknown_target", OPENS));
    }
    // the summary is written when the aggregation window closes
    List<AuditEvent> refused = new ArrayList<>();
    long counted =
        Eventually.until(
            "the refusals' audit counts add up to " + OPENS,
            AuditEmitter.REFUSAL_WINDOW.plusSeconds(15),
            () -> {
              for (var e :
                  RelayCluster.await(
                      a.bus().readGroup(stream, "flood", "c1", 1000, Duration.ofMillis(500)))) {
                AuditEvent ev = AuditEvent.parseFrom(e.body().getBytes());
                if (ev.getAction().equals("relay.channel_refused")) {
                  refused.add(ev);
                }
              }
              return refused.stream()
                  .mapToLong(ev -> Long.parseLong(ev.getMetadataOrThrow(AuditEmitter.COUNT)))
                  .sum();
            },
            n -> n >= OPENS);
    assertThat(counted).isEqualTo(OPENS);
    // two events per aggregation window the flood touched (the first refusal at once, the summary
    // when the window closes): a few, however long a loaded machine takes, never one per OPEN
    long windows = (floodEnd - floodStart) / AuditEmitter.REFUSAL_WINDOW.toNanos() + 1;
    assertThat(refused).hasSizeLessThanOrEqualTo((int) (2 * windows));
    assertThat(refused)
        .allSatisfy(
            ev -> {
              assertThat(ev.getWorkspaceId()).isEqualTo(ws.toString());
              assertThat(ev.getMetadataMap()).containsEntry("reason", "unknown_target");
            });
  }
}
