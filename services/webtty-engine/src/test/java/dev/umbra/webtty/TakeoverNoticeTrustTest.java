package dev.umbra.webtty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.bus.SealedNotices;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.proto.webtty.BusDirection;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyBusMessage;
import dev.umbra.proto.webtty.WebTtyFrameType;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Whoever can publish on Redis without the internal credential cannot move participants
 * (docs/webtty.md, "Takeover notices on the bus"), over real PostgreSQL and Redis with three
 * instances: the session homed on 1, alice and bob connected through 0. A bare takeover (as
 * instances before the seal sent it), one sealed under another credential and one that is not a
 * takeover are refused before acting and counted by reason; both stay with their home.
 */
class TakeoverNoticeTrustTest {
  @RegisterExtension static final FailoverFixture fx = new FailoverFixture();

  @Test
  void aForgedTakeoverNoticeMovesNobody() throws Exception {
    FailoverFixture.Opened o = fx.open(1, 0);
    Peer bob = fx.h.client(0, o.ws(), "bob", "member");
    bob.send(FailoverFixture.join(o.sid(), o.bobKey(), false));
    bob.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED);
    WebTtyBusMessage takeover =
        WebTtyBusMessage.newBuilder()
            .setOrigin("01JF0RGED0000000000000000Z") // an instance id is a ULID
            .setDirection(BusDirection.BUS_DIRECTION_TAKEOVER)
            .setSessionId(o.sid())
            .build();
    SealedNotices otherCredential =
        new SealedNotices(
            "not-the-internal-credential-but-32-chars-long",
            CryptoConstants.WEBTTY_TAKEOVER_DOMAIN,
            512,
            System::currentTimeMillis);
    assertThat(takeover.getSerializedSize()).isGreaterThan(SealedNotices.HEADER);
    publish(Buffer.buffer(takeover.toByteArray()));
    publish(otherCredential.seal(BusNames.WEBTTY_TAKEOVERS, takeover.toByteArray()));
    publish(Buffer.buffer(new byte[] {1, 2, 3}));
    publish(Buffer.buffer(new byte[SealedNotices.HEADER + 513]));
    for (String reason : List.of("unknown_version", "bad_mac", "truncated", "oversized")) {
      awaitRefused(0, reason);
      awaitRefused(1, reason); // the session's own home lets nothing go either
    }

    // both are still with their home: she types and the server gets it, bob sees its output
    assertThat(o.alice().closed).isFalse();
    assertThat(bob.closed).isFalse();
    o.alice().send(EdgeFailoverTest.stdin(fx.h, o.sid(), 1, "still here\n"));
    assertThat(
            fx.h.open(
                "stdin", o.server().await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA).getSealed()))
        .isEqualTo(EdgeFailoverTest.bytes("still here\n"));
    o.server()
        .send(
            fx.h.data(
                o.sid(),
                TtyStream.TTY_STREAM_STDOUT,
                0,
                fx.h.seal("stdout", EdgeFailoverTest.bytes("ok"))));
    assertThat(fx.h.open("stdout", bob.await(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA).getSealed()))
        .isEqualTo(EdgeFailoverTest.bytes("ok"));
    assertThat(bob.closeReason).isNull();
    assertThat(o.alice().closeReason).isNull();
    for (Peer p : List.of(o.server(), o.alice(), bob)) {
      p.close();
    }
  }

  private static void publish(Buffer body) throws Exception {
    fx.h
        .buses
        .get(2)
        .publish(BusNames.WEBTTY_TAKEOVERS, body)
        .toCompletionStage()
        .toCompletableFuture()
        .get(5, TimeUnit.SECONDS);
  }

  /** Waits (up to 10 s) until instance {@code i} counted a takeover refused for {@code reason}. */
  static void awaitRefused(int i, String reason) {
    Eventually.await(
        "instance " + i + " refused " + reason,
        Duration.ofSeconds(10),
        () -> refused(i, reason) >= 1);
    assertThat(refused(i, reason)).as("instance %d refused %s", i, reason).isEqualTo(1);
  }

  private static double refused(int i, String reason) {
    return fx.h
        .engines
        .get(i)
        .metrics()
        .count("bus_notices_refused", "type", "takeover", "reason", reason);
  }
}
