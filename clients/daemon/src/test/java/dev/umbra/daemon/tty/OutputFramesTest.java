package dev.umbra.daemon.tty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.client.tty.TtyFrames;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.crypto.webtty.PayloadSender;
import dev.umbra.crypto.webtty.SealedPayload;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class OutputFramesTest {
  private final KeyContext context =
      new KeyContext(
          "ws-1", "srv-1", "sess-1", List.of(KeyId.of(X25519KeyPair.generate().publicKey())));
  private final PayloadKey key = PayloadKey.generate();
  private final PayloadKeyId keyId = PayloadKeyId.generate();
  private final KeyId server = KeyId.of(X25519KeyPair.generate().publicKey());

  @Test
  void aStdoutFrameIsByteForByteTheFrameTheProtobufBuilderMakesAndOpens() throws Exception {
    PayloadSender sender =
        new PayloadSender(new PayloadCipher(KeyRole.OUTPUT, key, keyId, context), server);
    PayloadCipher receiver = new PayloadCipher(KeyRole.OUTPUT, key, keyId, context);
    Random random = new Random(14);
    // counters 0 (left out on the wire) to past 128 (a two-byte varint); one byte to a full chunk
    for (int i = 0; i < 131; i++) {
      int size = i % 3 == 0 ? 1 + random.nextInt(200) : (i % 3 == 1 ? 65_536 : 16_000 + i);
      byte[] chunk = new byte[size];
      random.nextBytes(chunk);
      String sessionId = i == 5 ? "" : "session-" + i;

      byte[] bytes = OutputFrames.stdout(sessionId, sender, chunk);

      WebTtyFrame parsed = WebTtyFrame.parseFrom(bytes);
      SealedPayload p = TtyFrames.fromProto(TtyStream.TTY_STREAM_STDOUT, parsed.getSealed());
      assertThat(p.counter()).isEqualTo(i);
      byte[] built =
          WebTtyFrame.newBuilder()
              .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA)
              .setSessionId(sessionId)
              .setStream(TtyStream.TTY_STREAM_STDOUT)
              .setSealed(TtyFrames.toProto(p))
              .build()
              .toByteArray();
      assertThat(bytes).isEqualTo(built);
      assertThat(receiver.open(p)).isEqualTo(chunk);
    }
  }
}
