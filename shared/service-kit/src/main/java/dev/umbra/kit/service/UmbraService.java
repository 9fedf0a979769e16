package dev.umbra.kit.service;

import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.db.PgLocation;
import dev.umbra.kit.http.HealthCheck;
import dev.umbra.kit.http.ServiceHttp;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Base of every service verticle: migrates and opens its schema (when it has one), mounts the
 * shared endpoints and the service's own routes, listens, and on stop closes the listener,
 * drains in-flight requests and closes the pool.
 */
public abstract class UmbraService extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(UmbraService.class);
  private static final int DRAIN_SECONDS = 5;

  protected final ServiceRuntime runtime;
  protected Database db;
  private HttpServer server;
  private Router router;

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

  protected HttpServerOptions httpServerOptions() {
    return new HttpServerOptions();
  }

  protected int poolSize() {
    return 8;
  }

  @Override
  public Future<?> start() {
    ServiceConfig cfg = settings();
    Future<Void> dbReady =
        cfg.service().usesPostgres()
            ? Database.open(vertx, PgLocation.parse(cfg.pgUrl()), cfg.service().schema(), cfg.pgAppRole(), poolSize())
                .map(
                    d -> {
                      db = d;
                      return null;
                    })
            : Future.succeededFuture();
    return dbReady
        .compose(
            v -> {
              List<HealthCheck> checks = new ArrayList<>();
              if (db != null) {
                checks.add(new HealthCheck("postgres", db::ping));
              }
              checks.add(new HealthCheck(runtime.bus().kind().equals("redis") ? "redis" : "bus", runtime.bus()::ping));
              Router router =
                  ServiceHttp.router(vertx, cfg.service().id(), runtime.registry(), checks, cfg.adminToken(), cfg.trustedProxies());
              this.router = router;
              return mount(router).map(router);
            })
        .compose(
            router -> {
              ServiceHttp.finish(router);
              // Clients of ours speak HTTP/1.1 explicitly: the JDK HttpClient's default h2c upgrade
              // once stalled a request with no timeout firing. (Turning h2c off here instead made
              // Vert.x 5.0.7's Micrometer HTTP metrics fail requests with a null socket metric.)
              return vertx
                  .createHttpServer(httpServerOptions())
                  .requestHandler(router)
                  .listen(cfg.port(), cfg.bindHost());
            })
        .onSuccess(s -> server = s)
        .onFailure(e -> {
          if (db != null) {
            db.close();
          }
        });
  }

  /** The router as mounted, shared endpoints included (tests walk its routes). */
  public Router router() {
    return router;
  }

  /** The port actually bound (differs from config when config asked for 0). */
  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }

  public Database database() {
    return db;
  }

  @Override
  public Future<?> stop() {
    Future<Void> closed =
        server == null ? Future.succeededFuture() : server.shutdown(DRAIN_SECONDS, TimeUnit.SECONDS);
    return closed
        .recover(e -> Future.succeededFuture())
        .compose(v -> beforeClose().recover(e -> Future.succeededFuture()))
        .compose(v -> db == null ? Future.succeededFuture() : db.close())
        .onComplete(x -> log.info("{} stopped", settings().service().id()));
  }
}
