package dev.umbra.kit.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.net.impl.ConnectionBase;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A server socket set to receive large frames ({@link LargeFrames}) receives every message byte for
 * byte, whatever its size and however the socket reads split it: one byte, one read, exactly 64
 * KiB, a frame just over 64 KiB (a WebTTY DATA frame), several frames back to back, a message in
 * fragments; an oversized frame is still refused (1009) as before; and the decoder really cumulates
 * as a composite.
 */
class LargeFramesTest {
  static final int MAX = 192 * 1024;
  static Vertx vertx;
  static HttpServer server;
  static WebSocketClient client;
  static final LinkedBlockingQueue<Buffer> received = new LinkedBlockingQueue<>();
  static final LinkedBlockingQueue<Object> decoders = new LinkedBlockingQueue<>();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    server =
        vertx
            .createHttpServer(new HttpServerOptions().setPort(0).setMaxWebSocketFrameSize(MAX))
            .requestHandler(
                req ->
                    req.toWebSocket()
                        .onSuccess(
                            ws -> {
                              LargeFrames.receive(req.connection());
                              // after the setting (same event loop, queued after it)
                              vertx.runOnContext(v -> decoders.add(cumulator(req.connection())));
                              BinaryMessages.read(
                                  ws,
                                  MAX,
                                  received::add,
                                  () -> {},
                                  WebSockets.closingTooBig(ws, e -> {}));
                            }))
            .listen()
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    client =
        vertx.createWebSocketClient(
            new WebSocketClientOptions().setMaxFrameSize(4 * MAX).setMaxMessageSize(4 * MAX));
  }

  @AfterAll
  static void stop() {
    vertx.close();
  }

  static WebSocket connect() throws Exception {
    WebSocket ws =
        client
            .connect(
                new WebSocketConnectOptions()
                    .setHost("127.0.0.1")
                    .setPort(server.actualPort())
                    .setURI("/"))
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    return ws;
  }

  static Buffer random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return Buffer.buffer(b);
  }

  @Test
  void everyMessageArrivesByteForByteWhateverItsSize() throws Exception {
    WebSocket ws = connect();
    int[] sizes = {1, 125, 126, 4096, 65535, 65536, 65536 + 160, 100_000, MAX};
    List<Buffer> sent = new ArrayList<>();
    for (int i = 0; i < sizes.length; i++) {
      Buffer b = random(sizes[i], i);
      sent.add(b);
      ws.writeBinaryMessage(b); // back to back: frames share socket reads
    }
    for (Buffer b : sent) {
      Buffer got = received.poll(30, TimeUnit.SECONDS);
      assertThat(got).isNotNull();
      assertThat(got.getBytes()).isEqualTo(b.getBytes());
    }
    assertThat(decoders.poll(10, TimeUnit.SECONDS)).isEqualTo("composite");
    ws.close();
  }

  @Test
  void aFragmentedMessageIsPutTogether() throws Exception {
    WebSocket ws = connect();
    Buffer whole = random(150_000, 7);
    ws.writeFrame(io.vertx.core.http.WebSocketFrame.binaryFrame(whole.slice(0, 70_000), false));
    ws.writeFrame(
        io.vertx.core.http.WebSocketFrame.continuationFrame(whole.slice(70_000, 150_000), true));
    Buffer got = received.poll(30, TimeUnit.SECONDS);
    assertThat(got).isNotNull();
    assertThat(got.getBytes()).isEqualTo(whole.getBytes());
    ws.close();
  }

  @Test
  void anOversizedFrameIsStillRefused() throws Exception {
    WebSocket ws = connect();
    // this connection's own close only: an earlier test's ws.close() may still be answered (1000)
    LinkedBlockingQueue<Short> mine = new LinkedBlockingQueue<>();
    ws.closeHandler(v -> mine.add(ws.closeStatusCode() == null ? -1 : ws.closeStatusCode()));
    ws.writeBinaryMessage(random(MAX + 1, 9));
    assertThat(mine.poll(30, TimeUnit.SECONDS)).isEqualTo((short) 1009);
  }

  @Test
  void aFrameSentAByteAtATimeKeepsAtMostSixteenReadsApartAndEveryByte() {
    ByteBufAllocator alloc = UnpooledByteBufAllocator.DEFAULT;
    ByteBuf cumulation = alloc.buffer(1).writeByte(0);
    for (int i = 1; i < 20_000; i++) {
      cumulation =
          LargeFrames.BOUNDED_COMPOSITE.cumulate(alloc, cumulation, alloc.buffer(1).writeByte(i));
    }
    assertThat(cumulation.readableBytes()).isEqualTo(20_000);
    for (int i = 0; i < 20_000; i++) {
      assertThat(cumulation.getByte(i)).isEqualTo((byte) i);
    }
    // 16 reads kept as they came, then merged into buffers that double: never one part per byte
    assertThat(((CompositeByteBuf) cumulation).numComponents())
        .isLessThanOrEqualTo(LargeFrames.MAX_PARTS + 16);
    cumulation.release();
  }

  @Test
  void aConnectionThatIsNotVertxsOwnIsLeftAlone() {
    LargeFrames.receive(null); // nothing to set, nothing thrown
  }

  /** "composite" or "merge": the cumulator of the connection's WebSocket frame decoder. */
  static Object cumulator(io.vertx.core.http.HttpConnection c) {
    for (var e : ((ConnectionBase) c).channelHandlerContext().pipeline()) {
      if (e.getValue() instanceof WebSocketFrameDecoder
          && e.getValue() instanceof ByteToMessageDecoder d) {
        try {
          Field f = ByteToMessageDecoder.class.getDeclaredField("cumulator");
          f.setAccessible(true);
          Object cumulator = f.get(d);
          return cumulator == LargeFrames.BOUNDED_COMPOSITE ? "composite" : "merge";
        } catch (ReflectiveOperationException ex) {
          return ex.toString();
        }
      }
    }
    return "no decoder";
  }
}
