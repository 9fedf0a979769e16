package dev.umbra.cli.relay;

import dev.umbra.cli.CliException;
import dev.umbra.client.channel.ChannelOpener;
import dev.umbra.client.channel.ChannelProtocol;
import dev.umbra.client.channel.HandshakePayload;
import dev.umbra.client.channel.OpenedChannel;
import dev.umbra.client.channel.RelayLink;
import dev.umbra.client.channel.VertxTimers;
import dev.umbra.client.http.ClientTls;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.proto.channel.ChannelReason;
import dev.umbra.proto.channel.ChannelStart;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.net.URI;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The client side of relay channels on Vert.x, for long-lived commands ({@code forward}, tests):
 * one {@link RelayLink} (reconnecting, resuming every live channel after a reconnect) carrying the
 * channels of a {@link ChannelOpener}. Everything runs on the context captured at creation.
 * One-shot commands use the Vert.x-free {@link dev.umbra.client.channel.PlainRelayClient} instead.
 */
public final class RelayClient {
  private final Context context;
  private final ChannelOpener opener;
  private final RelayLink link;
  private volatile Throwable refused;

  /**
   * A channel's close code when this client can no longer get a relay session (see {@link
   * #refusedFor}).
   */
  public static final String SESSION_REFUSED = ChannelOpener.SESSION_REFUSED;

  /**
   * Creates a client on a new context (call from any thread).
   *
   * @param relays relay WebSocket URLs ({@code ws(s)://host/v1/relay}), tried in turn on reconnect
   * @param tokens fresh member session tokens for audience {@code relay}
   * @param clientKey this client's static X25519 key (the daemon learns it; it is in the
   *     transcript)
   * @param psk the Noise PSK when the workspace requires one ({@link ChannelProtocol#psk}), else
   *     null
   * @param tls how a {@code wss://} relay is verified ({@link ClientTls#system()} by default)
   */
  public static Future<RelayClient> create(
      Vertx vertx,
      List<URI> relays,
      String workspace,
      Supplier<Future<String>> tokens,
      X25519KeyPair clientKey,
      byte[] psk,
      ClientTls tls) {
    Context ctx = vertx.getOrCreateContext();
    Promise<RelayClient> made = Promise.promise();
    // created on its context so the link's, timers' and sockets' callbacks all run there
    ctx.runOnContext(
        v -> {
          try {
            made.complete(
                new RelayClient(vertx, ctx, relays, workspace, tokens, clientKey, psk, tls));
          } catch (RuntimeException e) {
            made.fail(e);
          }
        });
    return made.future();
  }

  private RelayClient(
      Vertx vertx,
      Context context,
      List<URI> relays,
      String workspace,
      Supplier<Future<String>> tokens,
      X25519KeyPair clientKey,
      byte[] psk,
      ClientTls tls) {
    this.context = context;
    RelayLink[] linkRef = new RelayLink[1];
    this.opener =
        new ChannelOpener(
            new VertxTimers(vertx),
            workspace,
            clientKey,
            psk,
            f -> linkRef[0].send(f),
            Clock.systemUTC());
    this.link =
        new RelayLink(
            vertx,
            relays,
            () -> tokens.get().onFailure(this::refusedFor),
            opener::onFrame,
            v -> opener.resumeAll(),
            tls);
    linkRef[0] = link;
  }

  /**
   * A session the CLI refused to ask for or was refused for good ({@link CliException}: this device
   * was revoked, is not approved, ...) ends the client: pending opens fail, channels close with
   * {@link #SESSION_REFUSED} and that reason, and the link stops, where it would otherwise
   * reconnect forever (the relay closes a revoked device's connection itself). Other failures, e.g.
   * a control plane that does not answer, are retried by the link.
   */
  private void refusedFor(Throwable e) {
    if (!(e instanceof CliException)) {
      return;
    }
    context.runOnContext(
        v -> {
          if (refused != null) {
            return;
          }
          refused = e;
          opener.failAll(ChannelReason.CHANNEL_REASON_SESSION_REFUSED, e.getMessage());
          link.stop();
        });
  }

  /** See {@link ChannelOpener#deviceProof}. */
  public RelayClient deviceProof(
      Function<String, Optional<HandshakePayload.DeviceProof>> forTarget) {
    opener.deviceProof(forTarget);
    return this;
  }

  public Context context() {
    return context;
  }

  public RelayLink link() {
    return link;
  }

  /**
   * Connects (the future completes on the first connection, or fails with why a session was
   * refused).
   */
  public Future<Void> connect() {
    return link.start().recover(e -> Future.failedFuture(refused != null ? refused : e));
  }

  public Future<Void> close() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(
        v -> {
          opener.closeAll();
          link.stop().onComplete(done);
        });
    return done.future();
  }

  /** {@link ChannelOpener#open} on this client's context. */
  public Future<OpenedChannel> open(String target, X25519PublicKey daemonKey, ChannelStart start) {
    Promise<OpenedChannel> promise = Promise.promise();
    context.runOnContext(
        v ->
            opener
                .open(target, daemonKey, start)
                .whenComplete(
                    (opened, error) -> {
                      if (error != null) {
                        promise.fail(error);
                      } else {
                        promise.complete(opened);
                      }
                    }));
    return promise.future();
  }

  /** Live channels (tests). */
  public int channelCount() {
    return opener.channelCount();
  }
}
