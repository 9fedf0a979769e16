package dev.umbra.client.tty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadCounters;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.crypto.webtty.PayloadSender;
import dev.umbra.crypto.webtty.Stream;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The client's receiver rules for output (docs/webtty.md "Receiver rules"), without sockets. */
class OutputDecryptorTest {
  private final KeyId server = KeyId.of(X25519KeyPair.generate().publicKey());
  private final KeyId viewer = KeyId.of(X25519KeyPair.generate().publicKey());
  private final KeyContext context =
      new KeyContext("ws", "server", "session", List.of(server, viewer));
  private final PayloadKey key = PayloadKey.generate();
  private final PayloadKeyId keyId = PayloadKeyId.generate();
  private final PayloadSender daemon =
      new PayloadSender(new PayloadCipher(KeyRole.OUTPUT, key, keyId, context), server);
  private final List<String> rendered = new ArrayList<>();
  private final List<String> problems = new ArrayList<>();
  private final TtyStats stats = new TtyStats();
  private final OutputDecryptor output =
      new OutputDecryptor(
          stats,
          new TtyClient.Listener() {
            @Override
            public void output(byte[] bytes) {
              rendered.add(new String(bytes));
            }

            @Override
            public void integrity(String problem, long count) {
              problems.add(problem + " " + count);
            }
          });

  private static WebTtyFrame stdout(PayloadSender sender, String text) {
    return WebTtyFrame.newBuilder()
        .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA)
        .setStream(TtyStream.TTY_STREAM_STDOUT)
        .setSealed(TtyFrames.toProto(sender.seal(Stream.STDOUT, text.getBytes())))
        .build();
  }

  private void openerReads() {
    output.start(server, PayloadCounters.fromZero(), key, keyId, context, 0);
  }

  @Test
  void theServersOutputIsRenderedInOrder() {
    openerReads();
    output.receive(stdout(daemon, "a"));
    output.receive(stdout(daemon, "b"));
    assertThat(rendered).containsExactly("a", "b");
    assertThat(problems).isEmpty();
  }

  @Test
  void aRepeatedFrameIsReportedAndNotRendered() {
    openerReads();
    WebTtyFrame once = stdout(daemon, "rm done");
    output.receive(once);
    output.receive(once);
    assertThat(rendered).containsExactly("rm done");
    assertThat(problems).containsExactly("output_repeat 0");
    assertThat(stats.get("output_refused_replayed")).isEqualTo(1);
  }

  @Test
  void aGapIsReportedWithHowManyFramesAreMissingAndTheOutputGoesOn() {
    openerReads();
    output.receive(stdout(daemon, "a"));
    stdout(daemon, "lost");
    stdout(daemon, "lost too");
    output.receive(stdout(daemon, "d"));
    assertThat(rendered).containsExactly("a", "d");
    assertThat(problems).containsExactly("output_gap 2");
    assertThat(stats.get("output_frames_missing")).isEqualTo(2);
  }

  @Test
  void aJoinerStartsCountingWhereItJoins() {
    stdout(daemon, "before the join");
    output.start(server, PayloadCounters.fromFirstSeen(), key, keyId, context, 0);
    output.receive(stdout(daemon, "after"));
    assertThat(rendered).containsExactly("after");
    assertThat(problems).isEmpty();
  }

  @Test
  void outputSentByAnotherHolderOfTheOutputKeyIsRefused() {
    openerReads();
    PayloadSender forger =
        new PayloadSender(new PayloadCipher(KeyRole.OUTPUT, key, keyId, context), viewer);
    assertThatThrownBy(() -> output.receive(stdout(forger, "fake prompt $ ")))
        .isInstanceOf(AuthenticationFailedException.class);
    assertThat(rendered).isEmpty();
  }

  @Test
  void stdinFannedOutByTheEngineIsIgnored() {
    openerReads();
    output.receive(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA)
            .setStream(TtyStream.TTY_STREAM_STDIN)
            .build());
    assertThat(rendered).isEmpty();
  }
}
