package dev.umbra.relay;

import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.auth.InvalidSessionException;
import dev.umbra.kit.auth.RevokedSessionException;
import dev.umbra.kit.auth.SessionAuth;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.BrowserSocketToken;
import dev.umbra.kit.http.ClientAddress;
import dev.umbra.kit.http.ServiceHttp;
import dev.umbra.kit.http.WebSockets;
import dev.umbra.kit.id.Ulid;
import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.kit.service.UmbraService;
import dev.umbra.relay.auth.RelayAuth;
import dev.umbra.relay.auth.TokenCheck;
import dev.umbra.relay.limits.IpLimits;
import dev.umbra.relay.metrics.RelayMetrics;
import dev.umbra.relay.routing.MeshAccess;
import dev.umbra.relay.routing.MeshAuth;
import dev.umbra.relay.routing.Switchboard;
import dev.umbra.relay.wire.MeshRefusal;
import dev.umbra.relay.wire.Reject;
import dev.umbra.relay.wire.RelayWire;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;
import java.util.OptionalInt;
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
  private final String instance = new Ulid().next();
  private RelayMetrics metrics;
  private Switchboard switchboard;
  private IpLimits connectionLimits;
  private TokenCheck tokens;
  private InternalCredential internal;
  private MeshAuth meshAuth;
  private URI meshUrl;
  private BrowserSocketToken browsers;

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

  /**
   * The mesh links of other instances are its only service-to-service calls: without the mesh, or
   * with the mesh on a listener of its own ({@code UMBRA_RELAY_MESH_PORT}), the main listener asks
   * nobody for a certificate, so browsers' agent-session WebSockets are not cancelled under mutual
   * TLS (docs/deploy.md).
   */
  @Override
  protected boolean servesServiceToServiceCalls() {
    return relaySettings.mesh() && relaySettings.meshPort().isEmpty();
  }

  /** The mesh's own listener, when {@code UMBRA_RELAY_MESH_PORT} is set and the mesh is on. */
  @Override
  protected OptionalInt serviceToServicePort() {
    return relaySettings.mesh() ? relaySettings.meshPort() : OptionalInt.empty();
  }

  /** The mesh endpoint, alone on its listener. */
  @Override
  protected void mountServiceToService(Router router) {
    router.get(RelayWire.MESH_PATH).handler(this::meshUpgrade);
  }

  /**
   * Frame limits (one frame, plus a mesh batch's envelope: a client's frame is checked against its
   * own limit again before parsing) and no Nagle; compression is off for every service (the kit
   * forces it).
   */
  @Override
  protected HttpServerOptions httpServerOptions() {
    int max = relaySettings.maxFrameBytes() + RelayWire.MESH_OVERHEAD_BYTES;
    return new HttpServerOptions()
        .setWebSocketSubProtocols(java.util.List.of(RelayWire.BROWSER_PROTOCOL))
        .setMaxWebSocketFrameSize(max)
        .setMaxWebSocketMessageSize(max)
        .setTcpNoDelay(true);
  }

  @Override
  protected Future<Void> mount(Router router) {
    // the takeover notices' key and the mesh's proofs come from the internal credential, shared by
    // every instance; it may be a file another instance is still writing: read it off the loop
    return vertx
        .executeBlocking(() -> InternalCredential.load(settings()), false)
        .compose(
            credential -> {
              internal = credential;
              return mountWith(router);
            });
  }

  private Future<Void> mountWith(Router router) {
    metrics = new RelayMetrics(runtime.registry());
    browsers = BrowserSocketToken.of(runtime.config().publicUrls().get(ServiceName.CONTROL_PLANE));
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
    meshAuth = relaySettings.mesh() ? new MeshAuth(internal, instance, runtime.clock()) : null;
    switchboard =
        new Switchboard(
            vertx,
            internal,
            runtime.bus(),
            relaySettings,
            metrics,
            runtime.clock(),
            instance,
            runtime.audit(),
            new MeshAccess(meshAuth, this::meshUrl, settings().tls().serving(), this::linkOptions));
    router.get(RelayWire.PATH).handler(this::upgrade);
    if (serviceToServicePort().isEmpty()) {
      // else on the mesh's own listener only: here it is an unknown route (404)
      router.get(RelayWire.MESH_PATH).handler(this::meshUpgrade);
    }
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
    // the credential first: nothing else is told to a caller without one. The header (CLI,
    // daemon), else the browser app's subprotocol, read only from the app's origin
    String token = SessionAuth.bearer(ctx);
    if (token == null) {
      try {
        token = browsers.offered(req);
      } catch (ApiException e) {
        metrics.reject(Reject.UNAUTHENTICATED);
        ServiceHttp.sendError(ctx, e);
        return;
      }
    }
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
    String presented = token;
    WebSockets.upgradeAfter(
        ctx,
        () -> admit(presented),
        (ws, claims) -> switchboard.attach(ws, claims, ip),
        e ->
            e instanceof ApiException api
                ? api
                : ApiException.unauthorized("session token could not be checked"));
  }

  /**
   * A mesh link from another relay instance (docs/relay.md, "Mesh link authentication"): a client
   * certificate from the deployment's CA where mutual TLS is configured, then a proof of the
   * internal credential made for this instance, recently, with a fresh nonce ({@link MeshAuth}),
   * before anything else is looked at; then the dialler must be a live instance of the mesh.
   */
  private void meshUpgrade(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    if (meshAuth == null || !internal.connectionAdmits(req)) {
      metrics.reject(Reject.UNAUTHENTICATED);
      ServiceHttp.sendError(ctx, ApiException.unauthorized("for relay instances only"));
      return;
    }
    String peer = req.getHeader(RelayWire.INSTANCE_HEADER);
    MeshRefusal refused = meshAuth.check(peer, req.getHeader(MeshAuth.HEADER));
    if (refused != null) {
      metrics.reject(Reject.UNAUTHENTICATED);
      metrics.meshRefused(refused);
      ServiceHttp.sendError(ctx, ApiException.unauthorized(MeshRefusal.MESSAGE + refused.tag()));
      return;
    }
    if (!WebSockets.isUpgrade(req)) {
      ServiceHttp.sendError(
          ctx, ApiException.badRequest(null, "a WebSocket upgrade naming its relay instance"));
      return;
    }
    WebSockets.upgradeAfter(
        ctx,
        () ->
            switchboard
                .meshKnows(peer)
                .compose(
                    known -> {
                      if (known) {
                        return Future.succeededFuture(peer);
                      }
                      metrics.reject(Reject.UNKNOWN_INSTANCE);
                      return Future.failedFuture(
                          new ApiException(
                              403, "unknown_instance", "not a live instance of this relay mesh"));
                    }),
        switchboard::acceptLink,
        e ->
            e instanceof ApiException api
                ? api
                : ApiException.unavailable("the relay mesh's presence could not be read"));
  }

  /**
   * Where other instances reach this one's mesh endpoint: {@code UMBRA_RELAY_MESH_URL}, else the
   * bind address and the actual port of the listener serving it (the mesh's own with {@code
   * UMBRA_RELAY_MESH_PORT}, else the main one; none while not listening, or when bound to a
   * wildcard address, which peers cannot dial).
   */
  private URI meshUrl() {
    if (meshUrl == null) {
      String host = settings().bindHost();
      int port = serviceToServicePort().isPresent() ? actualServiceToServicePort() : actualPort();
      if (relaySettings.meshUrl().isPresent()) {
        meshUrl = relaySettings.meshUrl().get();
      } else if (port > 0
          && !host.isEmpty()
          && !host.equals("0.0.0.0")
          && !host.equals("::")
          && !host.equals("[::]")) {
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        String scheme = settings().tls().serving() ? "wss" : "ws";
        meshUrl = URI.create(scheme + "://" + h + ":" + port + RelayWire.MESH_PATH);
      }
    }
    return meshUrl;
  }

  /** Links are opened with this service's TLS client settings (trust, client certificate). */
  private WebSocketClientOptions linkOptions() {
    HttpClientOptions http = settings().tls().clientOptions();
    WebSocketClientOptions o =
        new WebSocketClientOptions()
            .setVerifyHost(true)
            .setEnabledSecureTransportProtocols(http.getEnabledSecureTransportProtocols());
    if (http.getTrustOptions() != null) {
      o.setTrustOptions(http.getTrustOptions());
    }
    if (http.getKeyCertOptions() != null) {
      o.setKeyCertOptions(http.getKeyCertOptions());
    }
    return o;
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
                return Future.failedFuture(refuse(switchboard.revokedByVerifier()));
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
              Reject refusal = switchboard.revocationRefusal(claims);
              return refusal == null
                  ? Future.succeededFuture(claims)
                  : Future.failedFuture(refuse(refusal));
            });
  }

  /**
   * Counts a refusal by the revocation list and answers it: 403 {@code revoked} for a session a
   * revocation voids; 503 {@code revocations_stale} while the list is not current (docs/relay.md,
   * "Revocations"): the session may well be live, so its client is told to try again, not to log in
   * again.
   */
  private ApiException refuse(Reject refusal) {
    metrics.reject(refusal);
    return refusal == Reject.REVOKED
        ? new ApiException(403, "revoked", "this session was revoked")
        : new ApiException(
            503,
            refusal.tag(),
            "this relay has not read the revocation log lately and refuses every session; try again");
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
