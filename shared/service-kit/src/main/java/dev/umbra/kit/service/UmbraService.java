package dev.umbra.kit.service;

import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.db.PgLocation;
import dev.umbra.kit.http.AttemptBudget;
import dev.umbra.kit.http.ConnectionGuard;
import dev.umbra.kit.http.EdgeLimits;
import dev.umbra.kit.http.HealthCheck;
import dev.umbra.kit.http.ServiceHttp;
import dev.umbra.kit.revocation.RevocationList;
import dev.umbra.kit.tls.CertificateReloader;
import dev.umbra.kit.tls.ServiceTls;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Base of every service verticle: migrates and opens its schema (when it has one), mounts the
 * shared endpoints and the service's own routes, listens, and on stop closes the listener, drains
 * in-flight requests and closes the pool.
 */
public abstract class UmbraService extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(UmbraService.class);
  private static final int DRAIN_SECONDS = 5;

  protected final ServiceRuntime runtime;
  protected Database db;

  /**
   * Revocations of session tokens (null for a service that accepts none, see {@link
   * #acceptsSessionTokens}).
   */
  protected RevocationList revocations;

  private HttpServer server;
  private HttpServer serviceServer;
  private EdgeLimits edge;
  private ConnectionGuard guard;
  private Router router;
  private CertificateReloader reloader;
  private CertificateReloader serviceReloader;

  protected UmbraService(ServiceRuntime runtime) {
    this.runtime = runtime;
  }

  protected ServiceConfig settings() {
    return runtime.config();
  }

  /** Adds this service's routes (and starts its background work). */
  protected abstract Future<Void> mount(Router router);

  /** Stops background work before the pool closes. */
  protected Future<Void> beforeClose() {
    return Future.succeededFuture();
  }

  /**
   * This service's server options. The kit applies {@link #edgeOptions} over them, so whatever a
   * service sets here, compression stays off.
   */
  protected HttpServerOptions httpServerOptions() {
    return new HttpServerOptions();
  }

  /**
   * Largest WebSocket frame and message when a service sets none: the audit tail's clients send
   * nothing.
   */
  public static final int DEFAULT_MAX_WEBSOCKET_BYTES = 64 * 1024;

  /**
   * The options every service's server runs with, forced over the service's own: no
   * permessage-deflate or per-frame WebSocket compression (a 63 KiB frame inflating to 64 MiB held
   * an event loop for 70 s), no inflation of compressed request bodies (they are refused with 415
   * by the router), and WebSocket size limits no larger than the kit's default unless the service
   * set its own.
   */
  public static HttpServerOptions edgeOptions(HttpServerOptions own) {
    HttpServerOptions o =
        new HttpServerOptions(own)
            .setPerMessageWebSocketCompressionSupported(false)
            .setPerFrameWebSocketCompressionSupported(false)
            .setDecompressionSupported(false)
            // HTTP/1.1 only: with cleartext HTTP/2 on, Vert.x sniffs the first bytes before it
            // creates
            // the connection, so a silent connection never reached the connection guard
            .setHttp2ClearTextEnabled(false);
    HttpServerOptions defaults = new HttpServerOptions();
    if (own.getMaxWebSocketFrameSize() == defaults.getMaxWebSocketFrameSize()) {
      o.setMaxWebSocketFrameSize(DEFAULT_MAX_WEBSOCKET_BYTES);
    }
    if (own.getMaxWebSocketMessageSize() == defaults.getMaxWebSocketMessageSize()) {
      o.setMaxWebSocketMessageSize(DEFAULT_MAX_WEBSOCKET_BYTES);
    }
    return o;
  }

  protected int poolSize() {
    return 8;
  }

  /**
   * True (the default) for a service that accepts session tokens: it starts the one {@link
   * RevocationList} of the service before {@link #mount}, which then hands it to its verifier
   * ({@code SessionVerifier.checkRevocations}) and to whatever holds live connections.
   */
  protected boolean acceptsSessionTokens() {
    return true;
  }

  /**
   * True for a service whose listener serves endpoints other services call with their client
   * certificate (the control plane's {@code /internal/} routes, the relay's mesh): only such a
   * listener asks clients for a certificate from {@code UMBRA_TLS_CLIENT_CA_FILE}. The others never
   * ask, so browsers meet no certificate request (Chromium cancels a WebSocket handshake to an
   * origin that asks before the page made any other request to it: docs/deploy.md). False by
   * default; a service that answers false and still checks {@code InternalCredential.admits} fails
   * closed (no certificate is ever presented to it).
   */
  protected boolean servesServiceToServiceCalls() {
    return false;
  }

  /**
   * The port of a second listener for this service's service-to-service endpoints only (0: any free
   * port), on {@code UMBRA_BIND_HOST}; empty (the default): no second listener, those endpoints are
   * on the main one ({@link #servesServiceToServiceCalls}). That listener asks every client for a
   * certificate from {@code UMBRA_TLS_CLIENT_CA_FILE}, so the main one need not (the relay's mesh,
   * {@code UMBRA_RELAY_MESH_PORT}); it serves only what {@link #mountServiceToService} adds (no
   * health, metrics or admin endpoints), behind the same connection guard.
   */
  protected OptionalInt serviceToServicePort() {
    return OptionalInt.empty();
  }

  /**
   * Adds the routes of the listener of {@link #serviceToServicePort}; called after {@link #mount}.
   */
  protected void mountServiceToService(Router router) {}

  /** The service's revocation list (null when it accepts no session tokens). */
  public RevocationList revocations() {
    return revocations;
  }

  /** Composes db → revocations → router and mount → listen; a failed step fails the deployment. */
  @Override
  public Future<?> start() {
    return openDatabase()
        .compose(v -> startRevocations())
        .compose(v -> buildRouter())
        .compose(router -> mount(router).map(router))
        .compose(this::listen)
        .onSuccess(s -> server = s)
        .compose(s -> listenServiceToService())
        .onFailure(
            e -> {
              if (revocations != null) {
                revocations.stop();
              }
              if (db != null) {
                db.close();
              }
            });
  }

  /** Migrates and opens the service's schema, when it has one. */
  private Future<Void> openDatabase() {
    ServiceConfig cfg = settings();
    if (!cfg.service().usesPostgres()) {
      return Future.succeededFuture();
    }
    return Database.open(
            vertx,
            PgLocation.parse(cfg.pgUrl()),
            cfg.pgAppUrl().map(PgLocation::parse),
            cfg.service().schema(),
            cfg.pgAppRole(),
            poolSize(),
            java.time.Duration.ofMillis(
                cfg.env()
                    .positiveInt(Database.TIMEOUT_ENV, (int) Database.DEFAULT_TIMEOUT.toMillis())))
        .map(
            d -> {
              db = d;
              return null;
            });
  }

  /** Starts the service's one revocation list, when it accepts session tokens. */
  private Future<Void> startRevocations() {
    if (!acceptsSessionTokens()) {
      return Future.succeededFuture();
    }
    revocations =
        new RevocationList(
            vertx, runtime.bus(), runtime.clock(), runtime.registry(), settings().service().id());
    return revocations.start();
  }

  /** The router with the shared endpoints (health, metrics, admin) behind the connection guard. */
  private Future<Router> buildRouter() {
    ServiceConfig cfg = settings();
    List<HealthCheck> checks = new ArrayList<>();
    if (db != null) {
      checks.add(new HealthCheck("postgres", db::ping));
    }
    checks.add(
        new HealthCheck(
            runtime.bus().kind().equals("redis") ? "redis" : "bus", runtime.bus()::ping));
    edge = EdgeLimits.from(cfg.env());
    guard =
        new ConnectionGuard(
            edge, cfg.trustedProxies(), runtime.registry(), cfg.service().id(), System::nanoTime);
    router =
        ServiceHttp.router(
            vertx,
            cfg.service().id(),
            runtime.registry(),
            checks,
            cfg.adminToken(),
            cfg.trustedProxies(),
            new AttemptBudget(edge.adminFailuresPerMinute(), runtime.clock()),
            guard);
    return Future.succeededFuture(router);
  }

  /** Finishes the router (after the service's routes) and listens with the edge options. */
  private Future<HttpServer> listen(Router router) {
    ServiceHttp.finish(router);
    // Clients of ours speak HTTP/1.1 explicitly: the JDK HttpClient's default h2c upgrade once
    // stalled a request with no timeout firing. h2c is off here too (edgeOptions); the null socket
    // metric that once broke that path is guarded by GuardedMetricsFactory.
    guard.start(vertx);
    return listenOn(settings().port(), servesServiceToServiceCalls(), router)
        .onSuccess(l -> reloader = l.reloader())
        .map(Listening::server);
  }

  /** The listener of {@link #serviceToServicePort}, when the service has one. */
  private Future<Void> listenServiceToService() {
    OptionalInt port = serviceToServicePort();
    if (port.isEmpty()) {
      return Future.succeededFuture();
    }
    ServiceConfig cfg = settings();
    Router own =
        ServiceHttp.frontRouter(
            vertx, cfg.service().id(), runtime.registry(), cfg.trustedProxies(), guard);
    mountServiceToService(own);
    ServiceHttp.finish(own);
    return listenOn(port.getAsInt(), true, own)
        .onSuccess(
            l -> {
              serviceServer = l.server();
              serviceReloader = l.reloader();
            })
        .mapEmpty();
  }

  /** A listening server and its certificate reloader (null without TLS). */
  private record Listening(HttpServer server, CertificateReloader reloader) {}

  private Future<Listening> listenOn(int port, boolean serviceToService, Router router) {
    ServiceConfig cfg = settings();
    ServiceTls tls = cfg.tls().forListener(serviceToService);
    if (!tls.serving()) {
      return listenWith(port, edgeOptions(httpServerOptions()), router)
          .map(s -> new Listening(s, null));
    }
    return tls.read(vertx)
        .compose(
            material ->
                listenWith(
                        port, tls.serverOptions(edgeOptions(httpServerOptions()), material), router)
                    .map(
                        s -> {
                          CertificateReloader r =
                              new CertificateReloader(vertx, tls, s, cfg.service().id(), material);
                          r.start();
                          return new Listening(s, r);
                        }));
  }

  private Future<HttpServer> listenWith(int port, HttpServerOptions options, Router router) {
    return vertx
        .createHttpServer(options)
        .connectionHandler(guard.connectionHandler())
        .requestHandler(guard.requestHandler(router))
        .listen(port, settings().bindHost());
  }

  /** The certificate reloader of a TLS listener (null without TLS; tests). */
  public CertificateReloader certificateReloader() {
    return reloader;
  }

  /**
   * The port the listener of {@link #serviceToServicePort} actually bound; -1 without one or while
   * it is not listening.
   */
  public int actualServiceToServicePort() {
    return serviceServer == null ? -1 : serviceServer.actualPort();
  }

  /** The router as mounted, shared endpoints included (tests walk its routes). */
  public Router router() {
    return router;
  }

  /** The port actually bound (differs from config when config asked for 0). */
  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }

  /** The connection guard of this service's server (tests). */
  public ConnectionGuard connectionGuard() {
    return guard;
  }

  public Database database() {
    return db;
  }

  private static Future<Void> shutdown(HttpServer s) {
    return s == null ? Future.succeededFuture() : s.shutdown(DRAIN_SECONDS, TimeUnit.SECONDS);
  }

  @Override
  public Future<?> stop() {
    Future<Void> closed = Future.join(shutdown(server), shutdown(serviceServer)).mapEmpty();
    if (guard != null) {
      guard.stop(vertx);
    }
    for (CertificateReloader r : new CertificateReloader[] {reloader, serviceReloader}) {
      if (r != null) {
        r.stop();
      }
    }
    return closed
        .recover(e -> Future.succeededFuture())
        .compose(v -> beforeClose().recover(e -> Future.succeededFuture()))
        .compose(v -> revocations == null ? Future.succeededFuture() : revocations.stop())
        .compose(v -> db == null ? Future.succeededFuture() : db.close())
        .onComplete(x -> log.info("{} stopped", settings().service().id()));
  }
}
