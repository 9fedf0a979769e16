package dev.umbra.relay;

import dev.umbra.kit.auth.InvalidSessionException;
import dev.umbra.kit.auth.RevokedSessionException;
import dev.umbra.kit.auth.SessionAuth;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.ClientAddress;
import dev.umbra.kit.http.ServiceHttp;
import dev.umbra.kit.http.WebSockets;
import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.kit.service.UmbraService;
import dev.umbra.relay.auth.RelayAuth;
import dev.umbra.relay.auth.TokenCheck;
import dev.umbra.relay.limits.IpLimits;
import dev.umbra.relay.metrics.RelayMetrics;
import dev.umbra.relay.routing.Switchboard;
import dev.umbra.relay.wire.Reject;
import dev.umbra.relay.wire.RelayWire;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay service verticle: one WebSocket endpoint ({@link RelayWire#PATH}) for daemons and
 * clients, authenticated by control-plane session tokens verified offline, routing Noise frames it
 * cannot read (docs/relay.md). Everything is wired here by hand.
 */
public final class RelayService extends UmbraService {
  private static final Logger log = LoggerFactory.getLogger(RelayService.class);

  private final RelaySettings relaySettings;
  private final Function<RelayService, TokenCheck> tokenCheckFactory;
  private final String instance = UUID.randomUUID().toString().substring(0, 8);
  private RelayMetrics metrics;
  private Switchboard switchboard;
  private IpLimits connectionLimits;
  private TokenCheck tokens;

  public RelayService(ServiceRuntime runtime) {
    this(runtime, null);
  }

  /**
   * With another token check (tests, or a single-JVM dev mode sharing the control plane's keys).
   */
  public RelayService(ServiceRuntime runtime, Function<RelayService, TokenCheck> tokenCheck) {
    super(runtime);
    this.relaySettings = RelaySettings.from(runtime.config().env());
    this.tokenCheckFactory = tokenCheck;
  }

  /** Frame limits and no Nagle; compression is off for every service (the kit forces it). */
  @Override
  protected HttpServerOptions httpServerOptions() {
    return new HttpServerOptions()
        .setMaxWebSocketFrameSize(relaySettings.maxFrameBytes())
        .setMaxWebSocketMessageSize(relaySettings.maxFrameBytes())
        .setTcpNoDelay(true);
  }

  @Override
  protected Future<Void> mount(Router router) {
    metrics = new RelayMetrics(runtime.registry());
    connectionLimits =
        new IpLimits(relaySettings.connectionRate(), relaySettings.connectionBurst());
    if (tokenCheckFactory != null) {
      tokens = tokenCheckFactory.apply(this);
    } else {
      var verifier = RelayAuth.verifier(vertx, runtime.config(), runtime.clock());
      tokens = verifier.checkRevocations(revocations)::verify;
      // warm the key cache; a control plane that is not up yet is fetched again on first use
      verifier
          .refresh()
          .onFailure(e -> log.debug("control-plane key set not fetched yet: {}", e.getMessage()));
    }
    switchboard =
        new Switchboard(
            vertx,
            runtime.bus(),
            relaySettings,
            metrics,
            runtime.clock(),
            instance,
            runtime.audit());
    router.get(RelayWire.PATH).handler(this::upgrade);
    vertx.setPeriodic(60_000, t -> connectionLimits.sweep(System.nanoTime()));
    return switchboard.start(revocations);
  }

  @Override
  protected Future<Void> beforeClose() {
    return switchboard == null ? Future.succeededFuture() : switchboard.stop();
  }

  private void upgrade(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    String ip = ClientAddress.of(ctx);
    String token =
        SessionAuth.bearer(
            ctx); // the credential first: nothing else is told to a caller without one
    if (token == null) {
      metrics.reject(Reject.UNAUTHENTICATED);
      ServiceHttp.sendError(
          ctx,
          ApiException.unauthorized("a session token is required (Authorization: Bearer ...)"));
      return;
    }
    if (!"websocket".equalsIgnoreCase(req.getHeader("upgrade"))) {
      ServiceHttp.sendError(
          ctx, ApiException.badRequest(null, "this endpoint speaks WebSocket only"));
      return;
    }
    if (!connectionLimits.tryTake(ip, System.nanoTime())) {
      metrics.reject(Reject.CONNECTION_RATE);
      ServiceHttp.sendError(
          ctx, new ApiException(429, "rate_limited", "too many new connections; retry later"));
      return;
    }
    WebSockets.upgradeAfter(
        ctx,
        () -> admit(token),
        (ws, claims) -> switchboard.attach(ws, claims, ip),
        e ->
            e instanceof ApiException api
                ? api
                : ApiException.unauthorized("session token could not be checked"));
  }

  /** The session behind {@code token} if it may use the relay; fails with the refusal, counted. */
  private Future<SessionClaims> admit(String token) {
    Future<SessionClaims> checked;
    try {
      checked = tokens.verify(token);
    } catch (RuntimeException e) {
      checked = Future.failedFuture(e);
    }
    return checked
        .recover(
            e -> {
              if (e instanceof RevokedSessionException) {
                metrics.reject(Reject.REVOKED);
                return Future.failedFuture(
                    new ApiException(403, "revoked", "this session was revoked"));
              }
              metrics.reject(Reject.UNAUTHENTICATED);
              String why =
                  e instanceof InvalidSessionException
                      ? e.getMessage()
                      : "session token could not be checked";
              return Future.failedFuture(ApiException.unauthorized(why));
            })
        .compose(
            claims -> {
              if (!RelayAuth.isDaemon(claims) && !RelayAuth.isClient(claims)) {
                metrics.reject(Reject.FORBIDDEN_ROLE);
                return Future.failedFuture(
                    new ApiException(403, "forbidden", "this session may not use the relay"));
              }
              if (switchboard.isRevoked(claims)) {
                metrics.reject(Reject.REVOKED);
                return Future.failedFuture(
                    new ApiException(403, "revoked", "this session was revoked"));
              }
              return Future.succeededFuture(claims);
            });
  }

  public RelayMetrics metrics() {
    return metrics;
  }

  public Switchboard switchboard() {
    return switchboard;
  }

  public RelaySettings relaySettings() {
    return relaySettings;
  }
}
