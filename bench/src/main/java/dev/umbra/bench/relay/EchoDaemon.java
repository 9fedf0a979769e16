package dev.umbra.bench.relay;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The daemon side of {@link RelayBench}'s raw relay connections: a registered machine that echoes
 * DATA back (latency) or counts and acks it (bulk, DATA with reason "sink").
 */
final class EchoDaemon {
  final WebSocket ws;
  final String target;

  private EchoDaemon(WebSocket ws, String target) {
    this.ws = ws;
    this.target = target;
  }

  /** Connects to the relay at {@code url} as machine {@code target} and registers. */
  static EchoDaemon connect(
      WebSocketClient client, URI url, UUID workspace, String target, String token)
      throws Exception {
    WebSocket ws =
        RelayBench.await(
            client.connect(
                new WebSocketConnectOptions()
                    .setAbsoluteURI(url.toString())
                    .putHeader("authorization", "Bearer " + token)));
    CompletableFuture<Void> registered = new CompletableFuture<>();
    Map<Long, long[]> counts = new HashMap<>();
    ws.binaryMessageHandler(
        buf -> {
          RelayFrame f;
          try {
            f = RelayFrame.parseFrom(buf.getBytes());
          } catch (InvalidProtocolBufferException e) {
            return;
          }
          switch (f.getType()) {
            case FRAME_TYPE_REGISTERED -> registered.complete(null);
            case FRAME_TYPE_DATA -> {
              if (f.getReason().equals("sink")) {
                long n = ++counts.computeIfAbsent(f.getChannelId(), k -> new long[1])[0];
                if (n % 64 == 0) {
                  ws.writeBinaryMessage(
                      Buffer.buffer(
                          RelayFrame.newBuilder()
                              .setType(FrameType.FRAME_TYPE_ACK)
                              .setWorkspaceId(f.getWorkspaceId())
                              .setTargetId(target)
                              .setChannelId(f.getChannelId())
                              .setAck(n)
                              .build()
                              .toByteArray()));
                }
              } else {
                // echoed as received, as nginx's backend echoes its bytes: the relay routes it
                // back by channel
                ws.writeBinaryMessage(buf);
              }
            }
            default -> {}
          }
        });
    ws.writeBinaryMessage(
        Buffer.buffer(
            RelayFrame.newBuilder()
                .setType(FrameType.FRAME_TYPE_REGISTER)
                .setWorkspaceId(workspace.toString())
                .setTargetId(target)
                .build()
                .toByteArray()));
    registered.get(30, TimeUnit.SECONDS);
    return new EchoDaemon(ws, target);
  }

  void close() throws Exception {
    RelayBench.await(ws.close());
  }
}
