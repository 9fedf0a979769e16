package dev.umbra.webtty;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.revocation.Revoked;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.proto.audit.AuditEvent;
import dev.umbra.proto.bus.Revocation;
import dev.umbra.proto.bus.RevokedKind;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A server's (daemon's) connection drops while its home instance lives (docs/webtty.md "Engine
 * failover"): the home keeps the live session for {@code UMBRA_WEBTTY_SERVER_GRACE_SECONDS} (2 s
 * here) with its participants, hands it back to the server's RESUME on a new connection (audited
 * {@code terminal.resumed}, envelope facts only), ends it with {@code server_gone} when the server
 * does not come back, and lets it go without ending it when another instance took it over (at its
 * takeover notice; the participant is moved, {@code home_moved}, and re-joins there). Every other
 * RESUME stays refused.
 */
class EngineServerLinkTest {
  static Vertx vertx;
  static EngineHarness h;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    h = new EngineHarness(vertx, 2, Map.of("UMBRA_WEBTTY_SERVER_GRACE_SECONDS", "2"));
  }

  @AfterAll
  static void stop() throws Exception {
    h.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private record Opened(
      UUID ws, String machine, ByteString key, Peer server, Peer alice, String sid) {}

  private static Opened open() throws Exception {
    UUID ws = UUID.randomUUID();
    String machine = "m-" + UUID.randomUUID();
    ByteString key = ByteString.copyFrom(EngineHarness.bytes(16));
    Peer server = h.server(0, ws, machine, EngineHarness.recorded());
    Peer alice = h.client(0, ws, "alice", "member");
    String sid = h.open(server, alice, machine, key, List.of(key));
    h.drainRecordings(0); // the session's row is stored, as it is long before a link drops
    return new Opened(ws, machine, key, server, alice, sid);
  }

  private static WebTtyFrame resume(Opened o, long epoch) {
    return FailoverFixture.resumeFrame(
        o.sid(), FailoverFixture.resume(h, o.ws(), o.machine(), o.sid(), epoch, o.key()));
  }

  @Test
  void theHomeKeepsTheLiveSessionWhileItsServerIsAwayAndHandsItBackOnResume() throws Exception {
    Opened o = open();
    o.server().close();
    Peer back = h.server(0, o.ws(), o.machine(), EngineHarness.recorded());
    back.send(resume(o, 1));
    assertThat(back.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED).getSessionId())
        .isEqualTo(o.sid());

    // the session goes on over the new connection, with the participant who never left
    o.alice()
        .send(h.data(o.sid(), TtyStream.TTY_STREAM_STDIN, 1, h.seal("stdin", "ls\n".getBytes())));
    assertThat(back.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA).getSessionId())
        .isEqualTo(o.sid());
    back.send(h.data(o.sid(), TtyStream.TTY_STREAM_STDOUT, 0, h.seal("stdout", "ok\n".getBytes())));
    assertThat(o.alice().await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA).getStream())
        .isEqualTo(TtyStream.TTY_STREAM_STDOUT);
    assertThat(o.alice().skipped)
        .noneMatch(f -> f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE);

    // the same document again, a newer one while the server is here, another machine's: refused
    assertThat(FailoverFixture.refusal(back, resume(o, 1))).isEqualTo("resume_refused");
    assertThat(FailoverFixture.refusal(back, resume(o, 2))).isEqualTo("resume_refused");
    String intruder = "m-" + UUID.randomUUID();
    Peer other = h.server(0, o.ws(), intruder, EngineHarness.recorded());
    assertThat(
            FailoverFixture.refusal(
                other,
                FailoverFixture.resumeFrame(
                    o.sid(), FailoverFixture.resume(h, o.ws(), intruder, o.sid(), 9, null))))
        .isEqualTo("resume_refused");

    AuditEvent resumed = resumedEvent(o.sid());
    assertThat(resumed.getMetadataMap())
        .containsEntry("takeover", "same_instance")
        .containsEntry("epoch", "1")
        .containsEntry("unstored_events", "0")
        .containsEntry("instance", h.engines.get(0).hub().instanceId());
    assertThat(resumed.getWorkspaceId()).isEqualTo(o.ws().toString());
    for (Peer p : List.of(back, o.alice(), other)) {
      p.close();
    }
  }

  @Test
  void aSessionWhoseServerDoesNotComeBackWithinTheGraceEndsAndCannotBeResumed() throws Exception {
    Opened o = open();
    long dropped = System.nanoTime();
    o.server().close();
    WebTtyFrame close = o.alice().await(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE);
    assertThat(close.getReason()).isEqualTo("server_gone");
    assertThat(Duration.ofNanos(System.nanoTime() - dropped))
        .isGreaterThan(Duration.ofMillis(1500));
    Peer late = h.server(0, o.ws(), o.machine(), EngineHarness.recorded());
    assertThat(FailoverFixture.refusal(late, resume(o, 1))).isEqualTo("resume_refused");
    late.close();
    o.alice().close();
  }

  @Test
  void whenAnotherInstanceTakesTheSessionOverTheOldHomeLetsItGoWithoutEndingIt() throws Exception {
    Opened o = open();
    o.server().close();
    Peer server1 = h.server(1, o.ws(), o.machine(), EngineHarness.recorded());
    server1.send(resume(o, 1));
    server1.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED);
    // the new home's takeover notice: the old home lets the session go at once, and its
    // participant is moved (was: CLOSE server_gone after the grace, and the client ended)
    assertThat(o.alice().awaitClosed()).isTrue();
    assertThat(o.alice().closeReason).isEqualTo("home_moved");
    assertThat(o.alice().inbox)
        .noneMatch(f -> f.getType() == WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE);
    // her re-join through the same instance finds the new home: her role, the signed document
    Peer alice = h.client(0, o.ws(), "alice", "member");
    alice.send(FailoverFixture.rejoin(o.sid(), o.key(), true, 2));
    assertThat(alice.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED).getRole())
        .isEqualTo(dev.umbra.proto.webtty.ParticipantRole.PARTICIPANT_ROLE_CONTROLLER);
    assertThat(alice.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUMED).getReason())
        .isEqualTo("engine_failover");
    assertThat(
            h.engines
                .get(0)
                .recordingStore()
                .resumeEpoch(o.ws(), o.sid())
                .toCompletionStage()
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS))
        .as("still live in the store, at the new home's epoch")
        .isEqualTo(1L);
    assertThat(resumedEvent(o.sid()).getMetadataMap())
        .containsEntry("takeover", "other_instance")
        .containsEntry("instance", h.engines.get(1).hub().instanceId());
    server1.close();
    alice.close();
    o.alice().close();
  }

  @Test
  void revokingTheMachineEndsTheSessionsWaitingForItAtOnce() throws Exception {
    Opened o = open();
    o.server().close();
    // revoked, not server_gone after the grace: the session did not wait for a revoked server
    assertThat(revokeMachineAndAwaitTheClose(o)).isEqualTo("revoked");
    o.alice().close();
  }

  @Test
  void revokingTheMachineWhileItsServerIsConnectedEndsItsSessionsAsRevoked() throws Exception {
    Opened o = open();
    // the engine closes the revoked server's link itself: its sessions end as revoked, not as
    // server_gone (which the revocation racing the link's own drop used to give)
    assertThat(revokeMachineAndAwaitTheClose(o)).isEqualTo("revoked");
    o.server().close();
    o.alice().close();
  }

  /** Revokes the session's machine; the reason of the CLOSE its participant then gets. */
  private static String revokeMachineAndAwaitTheClose(Opened o) throws Exception {
    Revocation r =
        Revoked.message(RevokedKind.REVOKED_KIND_MACHINE, o.ws(), o.machine(), null, Instant.now());
    h.publishRevocation(0, r);
    return o.alice().await(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE).getReason();
  }

  /** The {@code terminal.resumed} event of session {@code sid} the engines emitted. */
  private static AuditEvent resumedEvent(String sid) {
    return Eventually.until(
            "terminal.resumed of " + sid + " emitted",
            Duration.ofSeconds(10),
            () -> {
              for (var e :
                  h.buses
                      .get(0)
                      .range(AuditEmitter.INGEST_STREAM, "0-0", 10_000)
                      .toCompletionStage()
                      .toCompletableFuture()
                      .get(10, TimeUnit.SECONDS)) {
                AuditEvent ev = AuditEvent.parseFrom(e.body().getBytes());
                if (ev.getAction().equals("terminal.resumed") && ev.getTarget().endsWith(sid)) {
                  // envelope facts only: not the resume document, nor its keys
                  assertThat(new String(e.body().getBytes(), StandardCharsets.ISO_8859_1))
                      .doesNotContain("umbra-webtty-resume/v1")
                      .doesNotContain(FailoverFixture.hex(h.payloadKeyId));
                  return Optional.of(ev);
                }
              }
              return Optional.<AuditEvent>empty();
            },
            Optional::isPresent)
        .orElseThrow();
  }
}
