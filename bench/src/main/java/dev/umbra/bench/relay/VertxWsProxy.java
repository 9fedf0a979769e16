package dev.umbra.bench.relay;

import dev.umbra.bench.BenchRuns;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;

/**
 * A second baseline for the latency bench: the smallest WebSocket proxy on the relay's own stack
 * (Vert.x, one verticle, its own JVM), piping whole messages both ways without looking at them. The
 * gap between it and nginx is the stack's; the gap between the relay and it is the relay's. Args:
 * listen port, backend port.
 */
public final class VertxWsProxy {
  private VertxWsProxy() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int backend = Integer.parseInt(args[1]);
    if (args.length > 2 && args[2].equals("socket")) {
      socketPipe(port, backend);
      return;
    }
    Vertx vertx = BenchRuns.vertx();
    if (args.length > 2 && args[2].equals("tcp")) {
      tcpPipe(vertx, port, backend);
      return;
    }
    webSocketPipe(vertx, port, backend);
  }

  /** Bytes only, as nginx relays an upgraded connection: no WebSocket parsing at all. */
  private static void tcpPipe(Vertx vertx, int port, int backend) {
    vertx.deployVerticle(
        new AbstractVerticle() {
          @Override
          public void start(Promise<Void> started) {
            var client =
                vertx.createNetClient(new io.vertx.core.net.NetClientOptions().setTcpNoDelay(true));
            vertx
                .createNetServer(new io.vertx.core.net.NetServerOptions().setTcpNoDelay(true))
                .connectHandler(
                    in -> {
                      in.pause();
                      client
                          .connect(backend, "127.0.0.1")
                          .onSuccess(
                              out -> {
                                in.handler(out::write);
                                out.handler(in::write);
                                in.closeHandler(v -> out.close());
                                out.closeHandler(v -> in.close());
                                in.resume();
                              })
                          .onFailure(e -> in.close());
                    })
                .listen(port, "127.0.0.1")
                .onComplete(
                    ar -> {
                      System.out.println(ar.succeeded() ? "ready" : "failed: " + ar.cause());
                      started.complete();
                    });
          }
        });
  }

  /** WebSocket messages relayed one by one, as a Vert.x WebSocket proxy would. */
  private static void webSocketPipe(Vertx vertx, int port, int backend) {
    vertx.deployVerticle(
        new AbstractVerticle() {
          @Override
          public void start(Promise<Void> started) {
            WebSocketClient client =
                vertx.createWebSocketClient(
                    new WebSocketClientOptions()
                        .setMaxFrameSize(256 * 1024)
                        .setMaxMessageSize(256 * 1024));
            vertx
                .createHttpServer(
                    new HttpServerOptions()
                        .setTcpNoDelay(true)
                        .setMaxWebSocketFrameSize(256 * 1024)
                        .setMaxWebSocketMessageSize(256 * 1024))
                .webSocketHandler(
                    ws -> {
                      ws.pause();
                      client
                          .connect(backend, "127.0.0.1", ws.path())
                          .onComplete(
                              ar -> {
                                if (ar.failed()) {
                                  ws.close();
                                  return;
                                }
                                var b = ar.result();
                                ws.binaryMessageHandler(b::writeBinaryMessage);
                                b.binaryMessageHandler(ws::writeBinaryMessage);
                                ws.closeHandler(v -> b.close());
                                b.closeHandler(v -> ws.close());
                                ws.resume();
                              });
                    })
                .listen(port, "127.0.0.1")
                .onComplete(
                    ar -> {
                      System.out.println(ar.succeeded() ? "ready" : "failed: " + ar.cause());
                      started.complete();
                    });
          }
        });
  }

  /**
   * The leanest JVM byte pipe there is, below Vert.x and Netty: blocking java.net sockets, one
   * platform thread per direction, each blocked in read() until bytes come and writing them at
   * once.
   */
  private static void socketPipe(int port, int backend) throws java.io.IOException {
    java.net.ServerSocket server =
        new java.net.ServerSocket(port, 128, java.net.InetAddress.getLoopbackAddress());
    System.out.println("ready");
    while (true) {
      java.net.Socket in = server.accept();
      java.net.Socket out = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), backend);
      in.setTcpNoDelay(true);
      out.setTcpNoDelay(true);
      Thread.ofPlatform().daemon().start(() -> copy(in, out));
      Thread.ofPlatform().daemon().start(() -> copy(out, in));
    }
  }

  private static void copy(java.net.Socket from, java.net.Socket to) {
    byte[] buf = new byte[64 * 1024];
    try (from;
        to) {
      var src = from.getInputStream();
      var dst = to.getOutputStream();
      for (int n; (n = src.read(buf)) >= 0; ) {
        dst.write(buf, 0, n);
      }
    } catch (java.io.IOException e) {
      // one side closed: closing both ends the other direction too
    }
  }
}
