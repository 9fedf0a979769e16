package dev.umbra.client.tty;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.proto.webtty.WebTtyFrame;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import java.net.URI;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An engine position taken over (issue 14): a WebSocket proxy between a WebTTY endpoint and the
 * real engine that passes every frame through {@link #tamper}, which may replay, drop, reorder,
 * relabel (stream, sequence) or swap frames, and can inject frames of its own towards the endpoint.
 * It holds no key: everything it does, a hostile engine could do.
 */
final class HostileEngine implements AutoCloseable {
  /**
   * Which way a frame travels: from the endpoint to the engine, or from the engine to the endpoint.
   */
  enum Leg {
    TO_ENGINE,
    FROM_ENGINE
  }

  interface Tamper {
    /**
     * The frames to pass on instead of {@code f} (none: dropped; several: replayed or injected).
     */
    List<WebTtyFrame> apply(Leg leg, WebTtyFrame f);
  }

  static final Tamper HONEST = (leg, f) -> List.of(f);

  volatile Tamper tamper = HONEST;
  private final HttpServer server;
  private final WebSocketClient client;
  private volatile ServerWebSocket endpoint;

  private HostileEngine(Vertx vertx, URI engine) throws Exception {
    client =
        vertx.createWebSocketClient(
            new WebSocketClientOptions().setMaxFrameSize(1 << 20).setMaxMessageSize(1 << 20));
    server =
        vertx.createHttpServer(
            new HttpServerOptions()
                .setMaxWebSocketFrameSize(1 << 20)
                .setMaxWebSocketMessageSize(1 << 20));
    server.webSocketHandler(
        down -> {
          down.pause();
          endpoint = down;
          client
              .connect(
                  new WebSocketConnectOptions()
                      .setHost(engine.getHost())
                      .setPort(engine.getPort())
                      .setURI(down.path())
                      .addHeader(
                          "Authorization", String.valueOf(down.headers().get("Authorization"))))
              .onSuccess(
                  up -> {
                    up.binaryMessageHandler(
                        b -> forward(Leg.FROM_ENGINE, b, down::writeBinaryMessage));
                    up.closeHandler(v -> down.close());
                    down.binaryMessageHandler(
                        b -> forward(Leg.TO_ENGINE, b, up::writeBinaryMessage));
                    down.closeHandler(v -> up.close());
                    down.resume();
                  })
              .onFailure(e -> down.close());
        });
    server
        .listen(0, "127.0.0.1")
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  static HostileEngine start(Vertx vertx, URI engine) throws Exception {
    return new HostileEngine(vertx, engine);
  }

  URI url() {
    return URI.create("http://127.0.0.1:" + server.actualPort());
  }

  private void forward(Leg leg, Buffer b, java.util.function.Consumer<Buffer> out) {
    WebTtyFrame f;
    try {
      f = WebTtyFrame.parseFrom(b.getBytes());
    } catch (InvalidProtocolBufferException e) {
      out.accept(b);
      return;
    }
    for (WebTtyFrame g : tamper.apply(leg, f)) {
      out.accept(Buffer.buffer(g.toByteArray()));
    }
  }

  /**
   * Sends {@code f} to the endpoint as if the engine had (the endpoint is the last one that
   * connected).
   */
  void inject(WebTtyFrame f) {
    ServerWebSocket e = endpoint;
    e.writeBinaryMessage(Buffer.buffer(f.toByteArray()));
  }

  @Override
  public void close() throws Exception {
    server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    client.close();
  }
}
