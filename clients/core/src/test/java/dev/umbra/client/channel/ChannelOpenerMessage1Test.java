package dev.umbra.client.channel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.noise.HandshakeState;
import dev.umbra.crypto.noise.RelayPrologue;
import dev.umbra.proto.channel.ChannelReason;
import dev.umbra.proto.channel.ChannelReasons;
import dev.umbra.proto.channel.ChannelStart;
import dev.umbra.proto.channel.RunCommand;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import dev.umbra.proto.testing.MutableClock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/**
 * What the client's {@link ChannelOpener} puts into Noise message 1 (docs/relay.md, "Message 1"):
 * its clock's time, and the device proof when it has one; and what it tells its user when the
 * daemon refuses a message 1 for its time.
 */
class ChannelOpenerMessage1Test {
  final String workspace = "w";
  final String target = "t";
  final X25519KeyPair daemonKey = X25519KeyPair.generate();
  final X25519KeyPair clientKey = X25519KeyPair.generate();
  final MutableClock clock = new MutableClock(Instant.parse("2026-12-06T10:00:00Z"));
  final List<RelayFrame> sent = new ArrayList<>();
  final ChannelOpener opener =
      new ChannelOpener(
          new ChannelTimers() {
            @Override
            public long setTimer(long delayMs, Runnable task) {
              return 1;
            }

            @Override
            public long setPeriodic(long everyMs, Runnable task) {
              return 2;
            }

            @Override
            public void cancelTimer(long id) {}
          },
          workspace,
          clientKey,
          null,
          sent::add,
          clock);

  CompletableFuture<OpenedChannel> open() {
    return opener.open(
        target,
        daemonKey.publicKey(),
        ChannelStart.newBuilder().setRun(RunCommand.newBuilder().addArgv("true")).build());
  }

  /** Message 1's payload as the daemon reads it. */
  HandshakePayload readByTheDaemon(RelayFrame open) throws Exception {
    HandshakeState daemon =
        HandshakeState.responder(
            ChannelProtocol.suite(null), daemonKey, RelayPrologue.encode(workspace, target), null);
    return HandshakePayload.read(
        daemon.readMessage(open.getPayload().toByteArray()), clock.millis());
  }

  @Test
  void message1CarriesTheClientsTimeAndNoProofWithoutWorkspaceProtection() throws Exception {
    open();
    assertThat(sent)
        .singleElement()
        .extracting(RelayFrame::getType)
        .isEqualTo(FrameType.FRAME_TYPE_OPEN);
    assertThat(readByTheDaemon(sent.get(0)))
        .isEqualTo(HandshakePayload.at(clock.millis(), Optional.empty()));
  }

  @Test
  void underWorkspaceProtectionMessage1AlsoCarriesTheDevicesProof() throws Exception {
    HandshakePayload.DeviceProof proof =
        ClientAuth.proof(
            dev.umbra.crypto.sign.Signed.sign(
                java.util.Map.of("type", "umbra-device-credential/v1"),
                dev.umbra.crypto.keys.Ed25519KeyPair.generate().privateKey()),
            dev.umbra.crypto.keys.Ed25519KeyPair.generate(),
            workspace,
            target,
            clientKey.publicKey());
    opener.deviceProof(t -> t.equals(target) ? Optional.of(proof) : Optional.empty());
    open();
    assertThat(readByTheDaemon(sent.get(0)))
        .isEqualTo(HandshakePayload.at(clock.millis(), Optional.of(proof)));
  }

  @Test
  void aRefusalForTheTimeTellsTheUserWhatToDo() {
    Object[][] cases = {
      {ChannelReason.CHANNEL_REASON_HANDSHAKE_TIME_MISSING, "update umbra"},
      {ChannelReason.CHANNEL_REASON_HANDSHAKE_STALE, "check both clocks"},
      {ChannelReason.CHANNEL_REASON_HANDSHAKE_FUTURE, "check both clocks"},
    };
    for (Object[] c : cases) {
      sent.clear();
      CompletableFuture<OpenedChannel> opened = open();
      opener.onFrame(
          RelayFrame.newBuilder()
              .setType(FrameType.FRAME_TYPE_CLOSE)
              .setWorkspaceId(workspace)
              .setTargetId(target)
              .setChannelId(sent.get(0).getChannelId())
              .setReason(ChannelReasons.wire((ChannelReason) c[0]))
              .build());
      ExecutionException e =
          org.assertj.core.api.Assertions.catchThrowableOfType(
              ExecutionException.class, opened::get);
      assertThat(e.getCause()).isInstanceOf(ChannelClosedException.class);
      assertThat(((ChannelClosedException) e.getCause()).code())
          .isEqualTo(ChannelReasons.wire((ChannelReason) c[0]));
      assertThat(e.getCause().getMessage()).contains((String) c[1]);
    }
  }
}
