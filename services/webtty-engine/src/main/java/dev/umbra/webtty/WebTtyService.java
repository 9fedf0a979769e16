package dev.umbra.webtty;

import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.auth.InvalidSessionException;
import dev.umbra.kit.auth.SessionAuth;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.auth.SessionVerifier;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.kit.config.Env;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.LargeFrames;
import dev.umbra.kit.http.ServiceHttp;
import dev.umbra.kit.http.WebSockets;
import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.kit.service.UmbraService;
import dev.umbra.proto.api.PathTemplates;
import dev.umbra.proto.api.WebTtyPaths;
import dev.umbra.webtty.browser.BrowserSocketAuth;
import dev.umbra.webtty.metrics.EngineMetrics;
import dev.umbra.webtty.recording.RecordingStore;
import dev.umbra.webtty.recording.RecordingWriter;
import dev.umbra.webtty.replay.ReplayRoutes;
import dev.umbra.webtty.session.SessionHub;
import dev.umbra.webtty.wire.WebTtyWire;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webtty-engine service verticle (docs/webtty.md): WebSocket endpoints for WebTTY servers
 * ({@value WebTtyWire#SERVER_PATH}, machine tokens) and clients ({@value WebTtyWire#CLIENT_PATH},
 * member tokens), the recordings API, the revocation listener and the retention sweep.
 *
 * <p>Env: {@code UMBRA_WEBTTY_RETENTION_DAYS} (default 30), {@code UMBRA_WEBTTY_DETACH_SECONDS}
 * (how long a detached session's shell keeps running, default 600), {@code
 * UMBRA_WEBTTY_HANDSHAKE_SECONDS} (default 30), {@code UMBRA_WEBTTY_RETENTION_SWEEP_SECONDS}
 * (default 3600), {@code UMBRA_WEBTTY_SERVER_GRACE_SECONDS} (how long a home keeps a server's live
 * sessions after its connection dropped, default 30, 1 to 600).
 */
public final class WebTtyService extends UmbraService {
  private static final Logger log = LoggerFactory.getLogger(WebTtyService.class);

  private SessionVerifier verifier;
  private BrowserSocketAuth browsers;
  private SessionHub hub;
  private RecordingWriter writer;
  private RecordingStore store;
  private EngineMetrics metrics;
  private Duration retention;
  private long sweepTimer = -1;

  public WebTtyService(ServiceRuntime runtime) {
    super(runtime);
  }

  @Override
  protected HttpServerOptions httpServerOptions() {
    // Frames up to 4x the limit reach our own check (counted, then the connection is closed);
    // larger ones are refused by the decoder with close 1009. Compression: off (the kit forces it).
    return new HttpServerOptions()
        .setWebSocketSubProtocols(java.util.List.of(BrowserSocketAuth.PROTOCOL))
        .setMaxWebSocketFrameSize(WebTtyWire.MAX_FRAME_BYTES * 4)
        .setMaxWebSocketMessageSize(WebTtyWire.MAX_MESSAGE_BYTES);
  }

  @Override
  protected Future<Void> mount(Router router) {
    // the takeover notices' key comes from the internal credential (file I/O: off the loop)
    return vertx
        .executeBlocking(() -> InternalCredential.load(settings()), false)
        .compose(internal -> mount(router, internal));
  }

  private Future<Void> mount(Router router, InternalCredential internal) {
    try {
      Env env = settings().env();
      retention = Duration.ofDays(env.positiveInt("UMBRA_WEBTTY_RETENTION_DAYS", 30));
      Duration detach = Duration.ofSeconds(env.positiveInt("UMBRA_WEBTTY_DETACH_SECONDS", 600));
      Duration handshake =
          Duration.ofSeconds(env.positiveInt("UMBRA_WEBTTY_HANDSHAKE_SECONDS", 30));
      long sweepEvery = env.positiveInt("UMBRA_WEBTTY_RETENTION_SWEEP_SECONDS", 3600) * 1000L;
      Duration serverGrace =
          Duration.ofSeconds(
              env.boundedInt(
                  "UMBRA_WEBTTY_SERVER_GRACE_SECONDS",
                  30,
                  SessionHub.SERVER_GRACE_MIN_SECONDS,
                  SessionHub.SERVER_GRACE_MAX_SECONDS));
      URI cp = settings().publicUrls().get(ServiceName.CONTROL_PLANE);
      browsers = BrowserSocketAuth.of(cp);
      verifier =
          new SessionVerifier(
                  vertx,
                  SessionVerifier.jwksUrl(cp),
                  ServiceName.WEBTTY_ENGINE.id(),
                  runtime.clock(),
                  settings().tls().clientOptions())
              .checkRevocations(revocations);
      metrics = new EngineMetrics(runtime.registry());
      store = new RecordingStore(db);
      writer = new RecordingWriter(vertx, store, metrics);
      hub =
          new SessionHub(
              vertx,
              runtime.bus(),
              runtime.clock(),
              metrics,
              runtime.audit(),
              writer,
              new SessionHub.Settings(
                  handshake, detach, Duration.ofHours(24), serverGrace, internal.value()));
      router.get(WebTtyWire.SERVER_PATH).order(-10).handler(ctx -> upgrade(ctx, true));
      router.get(WebTtyWire.CLIENT_PATH).order(-10).handler(ctx -> upgrade(ctx, false));
      // the browser app may read the recordings routes and the live sessions (CORS for its origin
      // only, before auth) (GET and its preflight only: the routes have no other method to answer)
      for (String path :
          java.util.List.of(
              WebTtyWire.RECORDINGS_PATH,
              PathTemplates.vertxRoute(WebTtyPaths.RECORDING),
              WebTtyWire.SESSIONS_PATH)) {
        router
            .route(path)
            .method(HttpMethod.GET)
            .method(HttpMethod.OPTIONS)
            .handler(browsers::recordingsCors);
      }
      new ReplayRoutes(store, runtime.audit()).mount(router, new SessionAuth(verifier));
      new dev.umbra.webtty.session.LiveSessionsRoute(store)
          .mount(router, new SessionAuth(verifier));
      sweepTimer = vertx.setPeriodic(sweepEvery, t -> sweep());
      return hub.start(revocations);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /** Verifies the session token, then upgrades; a refused token never gets a WebSocket. */
  private void upgrade(RoutingContext ctx, boolean server) {
    String offered;
    try {
      offered = browsers.offered(ctx);
      if (server && offered != null) {
        throw ApiException.forbidden(
            "a session token in a subprotocol is accepted only from the browser app's origin");
      }
    } catch (ApiException e) {
      metrics.authFailures(server ? "server" : "client");
      ServiceHttp.sendError(ctx, e);
      return;
    }
    String token = offered != null ? offered : SessionAuth.bearer(ctx);
    if (token == null) {
      metrics.authFailures(server ? "server" : "client");
      ServiceHttp.sendError(
          ctx,
          ApiException.unauthorized("a session token is required (Authorization: Bearer ...)"));
      return;
    }
    WebSockets.upgradeAfter(
        ctx,
        () ->
            verifier
                .verify(token)
                .compose(
                    claims -> {
                      SubjectKind want = server ? SubjectKind.MACHINE : SubjectKind.MEMBER;
                      if (claims.subjectKind() != want) {
                        return Future.failedFuture(
                            new InvalidSessionException(
                                server
                                    ? "WebTTY servers present a machine token"
                                    : "WebTTY clients present a member token"));
                      }
                      if (hub.isRevoked(claims)) {
                        return Future.failedFuture(new InvalidSessionException("revoked"));
                      }
                      return Future.succeededFuture(claims);
                    }),
        (ws, claims) -> {
          // DATA frames of up to 64 KiB span socket reads: no buffer regrown per frame
          LargeFrames.receive(ctx.request().connection());
          accept(server, ws, claims);
        },
        e -> {
          metrics.authFailures(server ? "server" : "client");
          return ApiException.unauthorized(
              e instanceof InvalidSessionException
                  ? e.getMessage()
                  : "session token could not be checked");
        });
  }

  private void accept(boolean server, io.vertx.core.http.ServerWebSocket ws, SessionClaims claims) {
    if (server) {
      hub.acceptServer(ws, claims);
    } else {
      hub.acceptClient(ws, claims);
    }
  }

  private void sweep() {
    store
        .sweep(
            runtime.clock().instant().minus(retention),
            1000,
            (ws, sid) ->
                runtime
                    .audit()
                    .event(AuditAction.RECORDING_DELETED)
                    .workspace(ws)
                    .target("session", sid)
                    .meta("reason", "retention")
                    .success()
                    .emit())
        .onSuccess(
            n -> {
              if (n > 0) {
                log.info("retention removed {} recordings", n);
              }
            })
        .onFailure(e -> log.warn("retention sweep failed: {}", e.getMessage()));
  }

  @Override
  protected Future<Void> beforeClose() {
    if (sweepTimer >= 0) {
      vertx.cancelTimer(sweepTimer);
    }
    if (hub != null) {
      hub.stop();
    }
    Future<Void> drained =
        writer == null
            ? Future.succeededFuture()
            : writer.drained().timeout(5, java.util.concurrent.TimeUnit.SECONDS);
    return drained
        .recover(e -> Future.succeededFuture())
        .onComplete(
            x -> {
              if (writer != null) {
                writer.close();
              }
            });
  }

  /** The verifier of session tokens (tests and single-JVM wiring may preload keys). */
  public SessionVerifier sessionVerifier() {
    return verifier;
  }

  public SessionHub hub() {
    return hub;
  }

  public RecordingWriter recordingWriter() {
    return writer;
  }

  public RecordingStore recordingStore() {
    return store;
  }

  public EngineMetrics metrics() {
    return metrics;
  }
}
