package dev.umbra.client.tty;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The client's engine socket with composite cumulation ({@link EngineMessages#readLargeFrames}):
 * frames of every size up to the limit, sent back to back so they share socket reads, arrive byte
 * for byte; a frame over the limit still ends the connection, nothing of it handed on.
 */
class EngineMessagesLargeFramesTest {
  private final Vertx vertx = Vertx.vertx();

  // kept in a field for the socket's life (docs/webtty.md, "WebSocket clients")
  private final WebSocketClient client =
      vertx.createWebSocketClient(TtyFrames.engineSocketOptions());

  private final LinkedBlockingQueue<Buffer> received = new LinkedBlockingQueue<>();
  private final LinkedBlockingQueue<String> closed = new LinkedBlockingQueue<>();

  @AfterEach
  void stop() {
    vertx.close();
  }

  @Test
  void framesOfEverySizeArriveByteForByte() throws Exception {
    int[] sizes = {
      1, 125, 126, 4096, 65535, 65536, 65536 + 160, 100_000, 2 * TtyFrames.MAX_FRAME_BYTES
    };
    byte[][] sent = new byte[sizes.length][];
    for (int i = 0; i < sizes.length; i++) {
      sent[i] = new byte[sizes[i]];
      new Random(i).nextBytes(sent[i]);
    }
    engineSending(
        ws -> {
          for (byte[] b : sent) {
            ws.writeBinaryMessage(Buffer.buffer(b));
          }
        });
    for (byte[] b : sent) {
      Buffer got = received.poll(30, TimeUnit.SECONDS);
      assertThat(got).isNotNull();
      assertThat(got.getBytes()).isEqualTo(b);
    }
  }

  @Test
  void aFrameOverTheLimitStillEndsTheConnection() throws Exception {
    engineSending(
        ws -> ws.writeBinaryMessage(Buffer.buffer(new byte[2 * TtyFrames.MAX_FRAME_BYTES + 1])));
    // Netty's decoder refuses the frame and drops the connection (1006 seen from this side)
    assertThat(closed.poll(30, TimeUnit.SECONDS)).isNotNull();
    assertThat(received).isEmpty();
  }

  /**
   * A stand-in engine that runs {@code send} once the client's handlers are set; each message one
   * frame (frames of up to 1 MiB), as the engine sends them.
   */
  private void engineSending(Handler<ServerWebSocket> send) throws Exception {
    int port =
        vertx
            .createHttpServer(new HttpServerOptions().setPort(0).setMaxWebSocketFrameSize(1 << 20))
            .webSocketHandler(ws -> ws.textMessageHandler(go -> send.handle(ws)))
            .listen()
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS)
            .actualPort();
    WebSocket socket =
        client
            .connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/"))
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    EngineMessages.readLargeFrames(socket);
    socket.closeHandler(v -> closed.add(String.valueOf(socket.closeStatusCode())));
    socket.frameHandler(new EngineMessages(TtyFrames.MAX_FRAME_BYTES * 2, received::add, () -> {}));
    socket.writeTextMessage("go"); // the handlers are set: the engine may send
  }
}
