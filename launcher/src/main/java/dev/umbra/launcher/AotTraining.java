package dev.umbra.launcher;

import dev.umbra.cli.UmbraCli;
import dev.umbra.cli.config.Credentials;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.noise.HandshakeState;
import dev.umbra.crypto.noise.NoiseProtocol;
import dev.umbra.crypto.noise.RelayPrologue;
import dev.umbra.crypto.noise.TransportPair;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.ChannelStart;
import dev.umbra.proto.channel.RunCommand;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The training run of the CLI's start-up cache ({@code bin/umbra} runs it once per build with
 * {@code -XX:AOTCacheOutput}, JDK 25, or {@code -XX:ArchiveClassesAtExit}, JDK 21–24; see
 * docs/cli.md). It does in one JVM what one-shot commands do — the command tree, help, version,
 * a usage error, {@code machines list} against a local stand-in for the control plane, and what
 * {@code umbra run} loads: Vert.x with a WebSocket, a Noise IK handshake, the channel's protobuf
 * messages — so that the classes they load, linked, and their profiles are in the cache. It talks
 * to nothing outside this JVM and writes only to a temporary directory it removes.
 */
public final class AotTraining {
  private AotTraining() {}

  public static void main(String[] args) throws Exception {
    Path home = Files.createTempDirectory("umbra-aot-training"); // outside UMBRA_HOME; made 0700 on POSIX
    try {
      train(home);
    } finally {
      delete(home);
    }
    System.exit(0);
  }

  private static void train(Path home) throws Exception {
    PrintStream sink = new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
    Map<String, String> env = Map.of();
    String[][] offline = {
      {"--version"}, {"--help"}, {"machines", "--help"}, {"run", "--help"}, {"machnes"}, {"machines", "list", "--bogus"},
      {"machines", "list"}, {"tokens", "--help"}, {"devices", "--help"}, {"tty", "--help"}, {"workspace", "--help"}};
    for (int round = 0; round < 3; round++) {
      for (String[] a : offline) {
        UmbraCli.execute(home, sink, sink, env, List.of(new DevCommand()), a);
      }
    }

    Vertx vertx = Vertx.vertx();
    try {
      UUID workspace = UUID.randomUUID();
      JsonArray machines = new JsonArray();
      for (int i = 0; i < 3; i++) {
        machines.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("name", "machine-" + i).put("os", "linux")
            .put("status", "active").put("last_seen_at", "2026-01-01T00:00:00Z").put("created_at", "2026-01-01T00:00:00Z")
            .put("x25519_public_key", java.util.HexFormat.of().formatHex(X25519KeyPair.generate().publicKey().toBytes())));
      }
      HttpServer server = vertx.createHttpServer()
          .webSocketHandler(ws -> ws.binaryMessageHandler(ws::writeBinaryMessage))
          .requestHandler(req -> {
            JsonObject body = req.path().endsWith("/machines")
                ? new JsonObject().put("items", machines)
                : req.path().equals("/v1/workspaces")
                    ? new JsonObject().put("items", new JsonArray().add(new JsonObject().put("id", workspace.toString()).put("name", "w")))
                    : new JsonObject().put("services", new JsonObject());
            req.response().putHeader("content-type", "application/json").end(body.encode());
          })
          .listen(0, "127.0.0.1").await();
      String url = "http://127.0.0.1:" + server.actualPort();
      new Credentials(home).save(new Credentials.Saved(url, "training-token", workspace.toString(), "w"));
      for (int round = 0; round < 5; round++) {
        UmbraCli.execute(home, sink, sink, env, List.of(new DevCommand()), "machines", "list");
        UmbraCli.execute(home, sink, sink, env, List.of(new DevCommand()), "machines", "list", "--json");
        UmbraCli.execute(home, sink, sink, env, List.of(new DevCommand()), "workspace", "list");
      }
      channel(vertx, server.actualPort(), workspace);
    } finally {
      vertx.close().await();
    }
  }

  /** What a relay channel does on the client: WebSocket frames, Noise IK, protobuf messages. */
  private static void channel(Vertx vertx, int port, UUID workspace) throws Exception {
    WebSocketClient client = vertx.createWebSocketClient();
    var ws = client.connect(port, "127.0.0.1", "/v1/relay").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    X25519KeyPair cli = X25519KeyPair.generate();
    X25519KeyPair daemon = X25519KeyPair.generate();
    byte[] prologue = RelayPrologue.encode(workspace.toString(), "machine-0");
    var echoed = new java.util.concurrent.LinkedBlockingQueue<Buffer>();
    ws.binaryMessageHandler(echoed::add);
    for (int i = 0; i < 20; i++) {
      HandshakeState initiator = HandshakeState.initiator(NoiseProtocol.IK_25519_AESGCM_SHA256, cli, daemon.publicKey(), prologue, null);
      HandshakeState responder = HandshakeState.responder(NoiseProtocol.IK_25519_AESGCM_SHA256, daemon, prologue, null);
      ChannelMessage start = ChannelMessage.newBuilder()
          .setStart(ChannelStart.newBuilder().setRun(RunCommand.newBuilder().addAllArgv(List.of("true")))).build();
      RelayFrame open = RelayFrame.newBuilder().setType(FrameType.FRAME_TYPE_OPEN).setWorkspaceId(workspace.toString())
          .setTargetId("machine-0").setChannelId(i + 1)
          .setPayload(com.google.protobuf.ByteString.copyFrom(initiator.writeMessage(start.toByteArray()))).build();
      ws.writeBinaryMessage(Buffer.buffer(open.toByteArray()));
      Buffer back = echoed.poll(30, TimeUnit.SECONDS);
      if (back == null) {
        throw new IOException("the training WebSocket did not echo");
      }
      RelayFrame frame = RelayFrame.parseFrom(back.getBytes());
      ChannelMessage.parseFrom(responder.readMessage(frame.getPayload().toByteArray()));
      initiator.readMessage(responder.writeMessage(new byte[0]));
      TransportPair ours = initiator.split();
      TransportPair theirs = responder.split();
      ChannelMessage.parseFrom(theirs.decrypt(ours.encrypt(start.toByteArray())));
    }
    ws.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    client.close();
  }

  private static void delete(Path root) throws IOException {
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.delete(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
        Files.delete(dir);
        return FileVisitResult.CONTINUE;
      }
    });
  }
}
