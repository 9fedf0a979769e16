package dev.umbra.client.tty;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.net.URI;
import java.util.concurrent.TimeUnit;

/**
 * A TCP balancer in front of engine instances (the engine failover tests' load balancer): each new
 * connection goes to the first backend that accepts it, as a load balancer with a health check
 * would; bytes are piped both ways, and when either side closes the other is closed.
 */
public final class TcpBalancer {
  private final NetServer server;
  private final NetClient client;
  private final int[] backends;
  private final java.util.Set<NetSocket> open = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private TcpBalancer(NetServer server, NetClient client, int[] backends) {
    this.server = server;
    this.client = client;
    this.backends = backends;
  }

  /** Listens on a free port of 127.0.0.1 in front of {@code backends}, first one preferred. */
  public static TcpBalancer start(Vertx vertx, int... backends) throws Exception {
    NetClient client = vertx.createNetClient();
    NetServer server = vertx.createNetServer();
    TcpBalancer b = new TcpBalancer(server, client, backends);
    server.connectHandler(
        in -> {
          in.pause();
          b.forward(in, 0);
        });
    get(server.listen(0, "127.0.0.1"));
    return b;
  }

  private void forward(NetSocket in, int i) {
    if (i >= backends.length) {
      in.close();
      return;
    }
    client
        .connect(backends[i], "127.0.0.1")
        .onSuccess(
            out -> {
              open.add(in);
              in.closeHandler(
                  v -> {
                    open.remove(in);
                    out.close();
                  });
              out.closeHandler(v -> in.close());
              in.exceptionHandler(e -> out.close());
              out.exceptionHandler(e -> in.close());
              in.pipeTo(out);
              out.pipeTo(in);
              in.resume();
            })
        .onFailure(e -> forward(in, i + 1));
  }

  /** Closes every connection it forwards now (the instances behind it live on). */
  public void dropAll() {
    for (NetSocket in : java.util.List.copyOf(open)) {
      in.close();
    }
  }

  public URI url() {
    return URI.create("http://127.0.0.1:" + server.actualPort());
  }

  public void close() throws Exception {
    get(server.close());
    get(client.close());
  }

  private static <T> T get(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
