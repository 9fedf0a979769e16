package dev.umbra.launcher;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.UmbraCli;
import dev.umbra.cli.config.Credentials;
import dev.umbra.cli.devices.WorkspaceProtection;
import dev.umbra.cli.logging.CliLogging;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.noise.HandshakeState;
import dev.umbra.crypto.noise.NoiseProtocol;
import dev.umbra.crypto.noise.RelayPrologue;
import dev.umbra.crypto.noise.TransportPair;
import dev.umbra.crypto.sign.CanonicalJsonSignatures;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.ChannelStart;
import dev.umbra.proto.channel.RunCommand;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.WebSocketClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The training runs of the CLI's start-up caches ({@code bin/umbra} runs them once per build with
 * {@code -XX:AOTCacheOutput}, JDK 25, or {@code -XX:ArchiveClassesAtExit}, JDK 21–24; see
 * docs/cli.md, "Start-up"), one per family of commands, each in its own JVM so that a cache holds
 * only what its commands load (every class of a cache is loaded when a JVM starts with it):
 *
 * <ul>
 *   <li>{@code cli}: the command tree, help, version, usage errors, and {@code machines list} /
 *       {@code workspace list} against a stand-in for the control plane on a plain socket (not
 *       Vert.x, which these commands no longer load);
 *   <li>{@code run}: {@code umbra run} end to end, as it runs: the same HTTP calls, then the
 *       Vert.x-free relay client over a WebSocket to a {@link TrainingRelay} whose stand-in daemon
 *       answers the Noise IK handshake, the start and the exit status;
 *   <li>{@code relay}: what {@code forward} and {@code tty} load — the same HTTP calls plus Vert.x
 *       with a WebSocket, a Noise IK handshake and the channel's protobuf messages.
 * </ul>
 *
 * It talks to nothing outside this JVM and writes only to a temporary directory it removes.
 */
public final class AotTraining {
  private AotTraining() {}

  public static void main(String[] args) throws Exception {
    CliLogging.install(); // as Umbra.main does for one-shot commands
    String family = args.length > 0 ? args[0] : "cli";
    Path home =
        Files.createTempDirectory("umbra-aot-training"); // outside UMBRA_HOME; made 0700 on POSIX
    try {
      switch (family) {
        case "cli" -> cli(home);
        case "run" -> run(home);
        case "relay" -> relay(home);
        default -> throw new IllegalArgumentException("no training family " + family);
      }
    } finally {
      delete(home);
    }
    System.exit(0);
  }

  private static final PrintStream SINK =
      new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);

  private static int umbra(Path home, String... args) {
    return UmbraCli.execute(home, SINK, SINK, Map.of(), Cli.commands(), args);
  }

  private static void cli(Path home) throws Exception {
    String[][] offline = {
      {"--version"},
      {"--help"},
      {"machines", "--help"},
      {"run", "--help"},
      {"machnes"},
      {"machines", "list", "--bogus"},
      {"machines", "list"},
      {"tokens", "--help"},
      {"devices", "--help"},
      {"tty", "--help"},
      {"workspace", "--help"}
    };
    for (int round = 0; round < 3; round++) {
      for (String[] a : offline) {
        umbra(home, a);
      }
    }
    UUID workspace = UUID.randomUUID();
    try (TrainingServer server = TrainingServer.start(workspace, null, null)) {
      new Credentials(home)
          .save(new Credentials.Saved(server.url(), "training-token", workspace.toString(), "w"));
      for (int round = 0; round < 5; round++) {
        umbra(home, "machines", "list");
        umbra(home, "machines", "list", "--json");
        umbra(home, "workspace", "list");
      }
    }
  }

  private static void run(Path home) throws Exception {
    UUID workspace = UUID.randomUUID();
    X25519KeyPair daemon = X25519KeyPair.generate();
    try (TrainingRelay relay = TrainingRelay.start(workspace.toString(), daemon);
        TrainingServer server =
            TrainingServer.start(workspace, relay.serviceUrl(), daemon.publicKey().toHex())) {
      new Credentials(home)
          .save(new Credentials.Saved(server.url(), "training-token", workspace.toString(), "w"));
      for (int round = 0; round < 3; round++) {
        umbra(home, "run", "--help");
        umbra(home, "run"); // a usage error: what the tree loads for `run` before it runs
      }
      for (int round = 0; round < 8; round++) {
        System.setIn(
            new ByteArrayInputStream(new byte[0])); // `umbra run` sends this JVM's standard input
        int code =
            round % 2 == 0
                ? umbra(home, "run", "machine-0", "--", "true")
                : umbra(home, "run", "machine-0", "--no-stdin", "--", "true");
        if (code != 0) {
          throw new IllegalStateException("the training run ended with " + code);
        }
      }
    }
    protection();
  }

  private static void relay(Path home) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      UUID workspace = UUID.randomUUID();
      HttpServer ws =
          vertx
              .createHttpServer()
              .webSocketHandler(w -> w.binaryMessageHandler(w::writeBinaryMessage))
              .requestHandler(req -> req.response().setStatusCode(404).end())
              .listen(0, "127.0.0.1")
              .await();
      try (TrainingServer server =
          TrainingServer.start(workspace, "http://127.0.0.1:" + ws.actualPort(), null)) {
        new Credentials(home)
            .save(new Credentials.Saved(server.url(), "training-token", workspace.toString(), "w"));
        CliContext ctx =
            new CliContext(home, SINK, SINK, Map.of(), new JsonHttp(), Clock.systemUTC());
        for (int round = 0; round < 3; round++) {
          umbra(home, "run", "--help");
          umbra(home, "run"); // a usage error: what the tree loads for `run` before it runs
          umbra(home, "machines", "list");
        }
        for (int round = 0; round < 5; round++) {
          // the HTTP part of RelayAccess.connect: machine record, keyset, discovery, session token
          Api api = new Api(ctx);
          api.all("/v1/workspaces/" + workspace + "/machines");
          new WorkspaceProtection(api, workspace).keysetIfAny();
          api.serviceUrl("relay");
          api.session(workspace, "relay");
        }
      }
      channel(vertx, ws.actualPort(), workspace);
      protection();
    } finally {
      vertx.close().await();
    }
  }

  /**
   * What Workspace Protection does before a channel opens (keyset chain, device keys, the
   * handshake's credential): canonical JSON, Ed25519 and P-256 signatures, P-256 key derivation.
   */
  private static void protection() {
    for (int i = 0; i < 5; i++) {
      Ed25519KeyPair signing = Ed25519KeyPair.generate();
      P256KeyPair envelope = P256KeyPair.fromPrivateKey(P256KeyPair.generate().privateKey());
      Object payload =
          CanonicalJson.parse(
              "{\"workspace_id\":\""
                  + UUID.randomUUID()
                  + "\",\"version\":"
                  + (i + 1)
                  + ",\"keys\":[\"a\",\"b\"]}");
      CanonicalJsonSignatures.verifyEd25519(
          signing.publicKey(),
          payload,
          CanonicalJsonSignatures.signEd25519(signing.privateKey(), payload));
      CanonicalJsonSignatures.verifyEcdsaP256(
          envelope.publicKey(),
          payload,
          CanonicalJsonSignatures.signEcdsaP256(envelope.privateKey(), payload));
    }
  }

  /** What a relay channel does on the client: WebSocket frames, Noise IK, protobuf messages. */
  private static void channel(Vertx vertx, int port, UUID workspace) throws Exception {
    WebSocketClient client = vertx.createWebSocketClient();
    var ws =
        client
            .connect(port, "127.0.0.1", "/v1/relay")
            .toCompletionStage()
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
    X25519KeyPair cli = X25519KeyPair.generate();
    X25519KeyPair daemon = X25519KeyPair.generate();
    byte[] prologue = RelayPrologue.encode(workspace.toString(), "machine-0");
    var echoed = new java.util.concurrent.LinkedBlockingQueue<Buffer>();
    ws.binaryMessageHandler(echoed::add);
    for (int i = 0; i < 20; i++) {
      HandshakeState initiator =
          HandshakeState.initiator(
              NoiseProtocol.IK_25519_AESGCM_SHA256, cli, daemon.publicKey(), prologue, null);
      HandshakeState responder =
          HandshakeState.responder(NoiseProtocol.IK_25519_AESGCM_SHA256, daemon, prologue, null);
      ChannelMessage start =
          ChannelMessage.newBuilder()
              .setStart(
                  ChannelStart.newBuilder()
                      .setRun(RunCommand.newBuilder().addAllArgv(List.of("true"))))
              .build();
      RelayFrame open =
          RelayFrame.newBuilder()
              .setType(FrameType.FRAME_TYPE_OPEN)
              .setWorkspaceId(workspace.toString())
              .setTargetId("machine-0")
              .setChannelId(i + 1)
              .setPayload(
                  com.google.protobuf.ByteString.copyFrom(
                      initiator.writeMessage(start.toByteArray())))
              .build();
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
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
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
