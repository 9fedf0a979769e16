package dev.umbra.cli.relay;

import dev.umbra.client.channel.SocketPipe;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.proto.channel.ChannelStart;
import dev.umbra.proto.channel.TcpForward;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import java.util.function.Consumer;

/**
 * A local TCP port whose every accepted connection becomes its own channel to the machine, which
 * connects to {@code host:port} on its side. One channel per connection keeps streams independent:
 * a slow stream never stalls another.
 */
public final class PortForward {
  private PortForward() {}

  /**
   * Listens on {@code bindHost:localPort} (0 for any free port); the future gives the server (see
   * actualPort()).
   */
  public static Future<NetServer> listen(
      Vertx vertx,
      RelayClient client,
      String target,
      X25519PublicKey daemonKey,
      String bindHost,
      int localPort,
      String host,
      int port,
      Consumer<Throwable> onStreamError) {
    ChannelStart start =
        ChannelStart.newBuilder()
            .setForward(TcpForward.newBuilder().setHost(host).setPort(port))
            .build();
    Promise<NetServer> listening = Promise.promise();
    client
        .context()
        .runOnContext(
            v ->
                vertx
                    .createNetServer(new NetServerOptions().setTcpNoDelay(true))
                    .connectHandler(
                        sock -> {
                          sock.pause();
                          client
                              .open(target, daemonKey, start)
                              .onComplete(
                                  ar -> {
                                    if (ar.failed()) {
                                      onStreamError.accept(ar.cause());
                                      sock.close();
                                      return;
                                    }
                                    SocketPipe pipe =
                                        new SocketPipe(vertx, ar.result().channel(), sock);
                                    pipe.start();
                                    ar.result().listen(pipe);
                                    sock.resume();
                                  });
                        })
                    .listen(localPort, bindHost)
                    .onComplete(listening));
    return listening.future();
  }
}
