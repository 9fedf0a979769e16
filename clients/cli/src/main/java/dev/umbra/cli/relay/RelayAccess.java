package dev.umbra.cli.relay;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.devices.WorkspaceProtection;
import dev.umbra.client.channel.ChannelProtocol;
import dev.umbra.client.channel.ClientAuth;
import dev.umbra.client.channel.HandshakePayload;
import dev.umbra.client.channel.PlainRelayClient;
import dev.umbra.client.channel.RelayWebSocket;
import dev.umbra.client.http.ClientTls;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.sign.Signed;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What {@code umbra run} and {@code umbra forward} share: the workspace, the machine record (by id
 * or name) with its pinned static key, the relay URL from discovery, this CLI's channel key and a
 * connected relay client {@code C}: the Vert.x {@link RelayClient} ({@link #connect}, for {@code
 * forward}) or the Vert.x-free {@link PlainRelayClient} ({@link #connectOneShot}, for {@code run}).
 * Blocking: for command threads only.
 */
public final class RelayAccess<C> implements AutoCloseable {
  /** This CLI's X25519 key for relay channels (the daemon records it in transcripts). */
  public static final String CLIENT_KEY_FILE = "relay-x25519.key";

  private final Transport<C> transport;
  private final C client;
  private final String machineId;
  private final X25519PublicKey daemonKey;

  private RelayAccess(
      Transport<C> transport, C client, String machineId, X25519PublicKey daemonKey) {
    this.transport = transport;
    this.client = client;
    this.machineId = machineId;
    this.daemonKey = daemonKey;
  }

  /** How a relay client is made, given its first token, and ended. */
  private interface Transport<C> {
    CompletableFuture<C> connect(
        Api api,
        UUID workspace,
        URI relay,
        CompletableFuture<String> firstToken,
        X25519KeyPair clientKey,
        byte[] psk,
        Executor threads);

    void deviceProof(C client, Function<String, Optional<HandshakePayload.DeviceProof>> proof);

    /** Closes the channels (the machine is told) and the connection. */
    void close(C client);

    /** After a failed connect: stops whatever was started. */
    void abandon(CompletableFuture<C> connecting);
  }

  /**
   * The Vert.x client (reconnecting; long-lived commands). Vert.x starts at once, in parallel with
   * the lookups.
   */
  private static final class VertxTransport implements Transport<RelayClient> {
    private final CompletableFuture<Vertx> started;
    private final ClientTls tls;

    VertxTransport(Executor threads, ClientTls tls) {
      this.started = CompletableFuture.supplyAsync(Vertx::vertx, threads);
      this.tls = tls;
    }

    @Override
    public CompletableFuture<RelayClient> connect(
        Api api,
        UUID workspace,
        URI relay,
        CompletableFuture<String> firstToken,
        X25519KeyPair clientKey,
        byte[] psk,
        Executor threads) {
      return started
          .thenCompose(
              vertx ->
                  relayClient(api, workspace, vertx, relay, firstToken, clientKey, psk, tls)
                      .toCompletionStage())
          .thenCompose(c -> c.connect().map(c).toCompletionStage());
    }

    @Override
    public void deviceProof(
        RelayClient client, Function<String, Optional<HandshakePayload.DeviceProof>> proof) {
      client.deviceProof(proof);
    }

    /**
     * Waits for the channels and the connection to close; Vert.x is closed without waiting (see
     * {@link RelayAccess#close}).
     */
    @Override
    public void close(RelayClient client) {
      try {
        client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        // closing on the way out
      }
      started.thenAccept(Vertx::close);
    }

    @Override
    public void abandon(CompletableFuture<RelayClient> connecting) {
      // the relay link made meanwhile stops (no more tokens asked for, no reconnects), then Vert.x
      connecting
          .handle((c, error) -> c)
          .thenCompose(
              c ->
                  c == null
                      ? CompletableFuture.completedFuture(null)
                      : c.close()
                          .toCompletionStage()
                          .toCompletableFuture()
                          .handle((v, error) -> null))
          .whenComplete((v, error) -> started.thenAccept(Vertx::close));
    }

    Vertx vertx() {
      return started.join();
    }
  }

  /**
   * The plain client (one connection, no event loop; one-shot commands): connects as soon as the
   * token and URL are there.
   */
  private static final class PlainTransport implements Transport<PlainRelayClient> {
    private final ClientTls tls;

    PlainTransport(ClientTls tls) {
      this.tls = tls;
    }

    @Override
    public CompletableFuture<PlainRelayClient> connect(
        Api api,
        UUID workspace,
        URI relay,
        CompletableFuture<String> firstToken,
        X25519KeyPair clientKey,
        byte[] psk,
        Executor threads) {
      return firstToken.thenApplyAsync(
          token -> {
            try {
              return PlainRelayClient.over(
                  RelayWebSocket.connect(relay, token, CONNECT_TIMEOUT, tls),
                  workspace.toString(),
                  clientKey,
                  psk);
            } catch (IOException e) {
              throw e instanceof RelayWebSocket.Refused r
                      && r.reason() == RelayWebSocket.Reason.UPGRADE_REFUSED
                      && (r.status() == 401 || r.status() == 403)
                  ? new CliException(
                      e.getMessage() + ": log in again (`umbra login`) or ask a workspace admin")
                  : new CliException(
                      "cannot reach the relay at "
                          + relay
                          + ": "
                          + (ClientTls.isTls(e) ? ClientTls.explain(e) : e.getMessage()));
            }
          },
          threads);
    }

    @Override
    public void deviceProof(
        PlainRelayClient client, Function<String, Optional<HandshakePayload.DeviceProof>> proof) {
      client.deviceProof(proof);
    }

    @Override
    public void close(PlainRelayClient client) {
      client.close();
    }

    @Override
    public void abandon(CompletableFuture<PlainRelayClient> connecting) {
      connecting.thenAccept(PlainRelayClient::close);
    }
  }

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);

  /** Looks everything up and connects the Vert.x relay client (see {@link #open}). */
  public static RelayAccess<RelayClient> connect(
      CliContext ctx, String workspaceOption, String machine, String pskOption) {
    Executor threads = connectThreads();
    return open(
        ctx,
        workspaceOption,
        machine,
        pskOption,
        new VertxTransport(threads, ctx.http().tls()),
        threads);
  }

  /**
   * Looks everything up and connects the Vert.x-free relay client of one-shot commands (see {@link
   * #open}).
   */
  public static RelayAccess<PlainRelayClient> connectOneShot(
      CliContext ctx, String workspaceOption, String machine, String pskOption) {
    return open(
        ctx,
        workspaceOption,
        machine,
        pskOption,
        new PlainTransport(ctx.http().tls()),
        connectThreads());
  }

  private static Executor connectThreads() {
    return task -> Thread.ofPlatform().daemon().name("umbra-connect").start(task);
  }

  /**
   * Looks everything up and connects. The independent parts overlap (docs/cli.md, "Start-up"): the
   * session token, the relay URL and the Workspace Protection checks are fetched, and the relay
   * connection is made (as soon as the URL is there; it waits for the token itself), while this
   * thread looks up the machine and checks its pinned key. Nothing is sent to the machine before
   * all of them succeeded: the connection to the relay carries only this member's session token
   * until a channel is opened. The first token is the one fetched here; the Vert.x relay link asks
   * for fresh ones on reconnects.
   */
  private static <C> RelayAccess<C> open(
      CliContext ctx,
      String workspaceOption,
      String machine,
      String pskOption,
      Transport<C> transport,
      Executor threads) {
    Api api = new Api(ctx);
    CompletableFuture<C> relayConnected = null;
    try {
      UUID workspace = api.workspace(workspaceOption);
      CompletableFuture<String> firstToken =
          CompletableFuture.supplyAsync(() -> api.session(workspace, "relay"), threads);
      CompletableFuture<URI> relayUrl =
          CompletableFuture.supplyAsync(
              () -> ChannelProtocol.relayWebSocketUrl(api.serviceUrl("relay")), threads);
      KeyFiles.ensurePrivateDirectory(ctx.home());
      KeyFiles.ensurePrivateDirectory(ctx.home().resolve("cli"));
      X25519KeyPair clientKey =
          KeyFiles.loadOrGenerateX25519(ctx.home().resolve("cli").resolve(CLIENT_KEY_FILE));
      String pskText = pskOption != null ? pskOption : ctx.env().get("UMBRA_PSK");
      byte[] psk =
          pskText == null || pskText.isEmpty()
              ? null
              : ChannelProtocol.psk(workspace.toString(), pskText);
      relayConnected =
          relayUrl.thenCompose(
              relay ->
                  transport.connect(api, workspace, relay, firstToken, clientKey, psk, threads));
      CompletableFuture<Function<String, Optional<HandshakePayload.DeviceProof>>> auth =
          CompletableFuture.supplyAsync(() -> handshakeAuth(api, workspace, clientKey), threads);
      JsonObject record = machineRecord(api, workspace, machine);
      String machineId = record.getString("id");
      String keyHex = record.getString("x25519_public_key");
      if (keyHex == null) {
        throw new CliException("the machine record of " + machine + " has no channel key");
      }
      X25519PublicKey pinned =
          new PinStore(ctx.home()).check(workspace, machineId, X25519PublicKey.fromHex(keyHex));
      URI relay = join(relayUrl);
      Function<String, Optional<HandshakePayload.DeviceProof>> handshakeAuth = join(auth);
      try {
        C client = relayConnected.get(30, TimeUnit.SECONDS);
        if (handshakeAuth != null) {
          transport.deviceProof(client, handshakeAuth);
        }
        return new RelayAccess<>(transport, client, machineId, pinned);
      } catch (Exception e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        if (cause instanceof CliException refused) {
          throw refused; // no session for this device (revoked, not approved), a refused token:
          // that, not "cannot reach"
        }
        throw new CliException("cannot reach the relay at " + relay + ": " + cause.getMessage());
      }
    } catch (RuntimeException e) {
      transport.abandon(
          relayConnected == null ? CompletableFuture.failedFuture(e) : relayConnected);
      throw e;
    }
  }

  /**
   * Workspace Protection: the daemon admits only trusted devices, whose credential (verified here
   * first) binds this channel key; a device without a valid credential fails here, never falls
   * back. Null without Workspace Protection (message 1 carries its time only).
   */
  private static Function<String, Optional<HandshakePayload.DeviceProof>> handshakeAuth(
      Api api, UUID workspace, X25519KeyPair clientKey) {
    Optional<WorkspaceProtection.Trusted> trusted = api.trust(workspace);
    if (trusted.isEmpty()) {
      WorkspaceProtection wp = new WorkspaceProtection(api, workspace);
      if (wp.store().load().isEmpty() && wp.keysetIfAny().isPresent()) {
        // a protected workspace and no device identity here: its error, not an unauthenticated try
        wp.store().require();
      }
      return null;
    }
    Signed credential = trusted.get().credential();
    Ed25519KeyPair device = trusted.get().device().signing();
    return target ->
        Optional.of(
            ClientAuth.proof(
                credential, device, workspace.toString(), target, clientKey.publicKey()));
  }

  /**
   * The relay client, not yet connected. Its first token is the one prefetched (a refusal of it,
   * e.g. a revoked device, reaches the client as the {@link CliException} it is, so the link stops
   * instead of asking again); later ones (reconnects) are asked for anew.
   */
  private static Future<RelayClient> relayClient(
      Api api,
      UUID workspace,
      Vertx vertx,
      URI relay,
      CompletableFuture<String> firstToken,
      X25519KeyPair clientKey,
      byte[] psk,
      ClientTls tls) {
    AtomicBoolean firstUsed = new AtomicBoolean();
    Supplier<Future<String>> tokens =
        () ->
            firstUsed.compareAndSet(false, true)
                ? Future.fromCompletionStage(firstToken)
                    .recover(
                        e ->
                            Future.failedFuture(
                                e instanceof CompletionException && e.getCause() != null
                                    ? e.getCause()
                                    : e))
                : vertx.executeBlocking(() -> api.session(workspace, "relay"), false);
    return RelayClient.create(
        vertx, List.of(relay), workspace.toString(), tokens, clientKey, psk, tls);
  }

  /**
   * The value of a lookup started above, or the exception it failed with (as the sequential code
   * threw it).
   */
  private static <T> T join(CompletableFuture<T> f) {
    try {
      return f.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }

  private static JsonObject machineRecord(Api api, UUID workspace, String idOrName) {
    JsonObject match = null;
    for (Object o : api.all("/v1/workspaces/" + workspace + "/machines")) {
      JsonObject m = (JsonObject) o;
      if (m.getString("id").equals(idOrName)) {
        return m;
      }
      if (idOrName.equals(m.getString("name")) && "active".equals(m.getString("status"))) {
        if (match != null) {
          throw new CliException("more than one machine is named '" + idOrName + "'; use its id");
        }
        match = m;
      }
    }
    if (match == null) {
      throw new CliException(
          "no machine '" + idOrName + "' in this workspace (see `umbra machines list`)");
    }
    return match;
  }

  /** The Vert.x instance of a {@link #connect}ed access. */
  public Vertx vertx() {
    return ((VertxTransport) transport).vertx();
  }

  public C client() {
    return client;
  }

  public String machineId() {
    return machineId;
  }

  public X25519PublicKey daemonKey() {
    return daemonKey;
  }

  /**
   * Closes the channels (the machine is told) and the relay connection, and waits for that; Vert.x
   * is closed without waiting for its threads to end: a one-shot command halts right after, and its
   * event loop threads stop on their own (docs/cli.md, "Start-up").
   */
  @Override
  public void close() {
    transport.close(client);
  }
}
