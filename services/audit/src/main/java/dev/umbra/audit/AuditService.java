package dev.umbra.audit;

import dev.umbra.audit.access.AuditAuthorizer;
import dev.umbra.audit.access.SessionAuthorizer;
import dev.umbra.audit.chain.ChainVerifier;
import dev.umbra.audit.ingest.DeadLetters;
import dev.umbra.audit.ingest.EventStore;
import dev.umbra.audit.ingest.IngestConsumer;
import dev.umbra.audit.query.EventQueries;
import dev.umbra.audit.query.QueryRoutes;
import dev.umbra.audit.tail.LiveTail;
import dev.umbra.audit.tail.TailRoutes;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.auth.SessionVerifier;
import dev.umbra.kit.config.Env;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.BrowserOrigin;
import dev.umbra.kit.http.ServiceHttp;
import dev.umbra.kit.http.WebSockets;
import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.kit.service.UmbraService;
import dev.umbra.proto.api.AuditPaths;
import dev.umbra.proto.api.PathTemplates;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Function;

/**
 * The audit service: consumes the ingest stream into hash-chained, tenant-scoped storage and serves
 * query, export, verification and live tail (docs/audit.md). Settings beyond the kit's: {@code
 * UMBRA_AUDIT_CONSUMER} (consumer name in the group; default host, pid and a random part), {@code
 * UMBRA_AUDIT_BATCH} (entries per read, default 2000), {@code UMBRA_AUDIT_CLAIM_IDLE_MS} (how long
 * an entry stays unacknowledged before another consumer takes it, default 30000), {@code
 * UMBRA_AUDIT_TAIL_QUEUE_BYTES} (per tail client, default 262144).
 */
public final class AuditService extends UmbraService {
  private final Function<AuditService, AuditAuthorizer> authorizerFactory;
  private IngestConsumer consumer;
  private LiveTail tail;
  private DeadLetters deadLetters;
  private SessionVerifier sessionVerifier;

  public AuditService(ServiceRuntime runtime) {
    this(runtime, null);
  }

  /** With another authorization step (the default verifies control-plane session tokens). */
  public AuditService(
      ServiceRuntime runtime, Function<AuditService, AuditAuthorizer> authorizerFactory) {
    super(runtime);
    this.authorizerFactory = authorizerFactory;
  }

  @Override
  protected Future<Void> mount(Router router) {
    Env env = settings().env();
    IngestConsumer.Settings ingest =
        new IngestConsumer.Settings(
            env.string("UMBRA_AUDIT_CONSUMER", defaultConsumerName()),
            env.positiveInt("UMBRA_AUDIT_BATCH", 2_000),
            Duration.ofMillis(env.positiveInt("UMBRA_AUDIT_CLAIM_IDLE_MS", 30_000)));
    int tailQueue = env.positiveInt("UMBRA_AUDIT_TAIL_QUEUE_BYTES", 256 * 1024);
    AuditEmitter audit = runtime.audit();
    deadLetters = new DeadLetters(db);
    tail = new LiveTail(runtime.bus(), runtime.registry());
    sessionVerifier =
        new SessionVerifier(
                vertx,
                SessionVerifier.jwksUrl(settings().publicUrls().get(ServiceName.CONTROL_PLANE)),
                SessionAuthorizer.AUDIENCE,
                runtime.clock(),
                settings().tls().clientOptions())
            .checkRevocations(revocations);
    revocations.onRevoked(tail::revoke);
    AuditAuthorizer authorizer =
        authorizerFactory != null
            ? authorizerFactory.apply(this)
            : new SessionAuthorizer(sessionVerifier, settings().adminToken());
    // the browser app's origin may read (CORS, answered before the credential: a preflight has
    // none), then the credential first, on every workspace route, before a parameter is parsed
    BrowserOrigin app = BrowserOrigin.of(settings().publicUrls().get(ServiceName.CONTROL_PLANE));
    router
        .route(PathTemplates.vertxRoute(AuditPaths.AUDIT) + "/*")
        .handler(ctx -> app.cors(ctx, "authorization, accept"));
    router
        .route(PathTemplates.vertxRoute(AuditPaths.AUDIT) + "/*")
        .handler(ctx -> WebSockets.nextAfter(ctx, () -> authorizer.authenticate(ctx)));
    new QueryRoutes(authorizer, new EventQueries(db), new ChainVerifier(db), audit).mount(router);
    new TailRoutes(vertx, authorizer, tail, audit, tailQueue).mount(router);
    router.get(AuditPaths.DEAD_LETTERS).handler(this::deadLetters);
    router.post(PathTemplates.vertxRoute(AuditPaths.REDRIVE)).handler(this::redrive);
    consumer =
        new IngestConsumer(
            vertx, runtime.bus(), new EventStore(db), deadLetters, ingest, runtime.registry());
    return consumer.start();
  }

  /** The session-token verifier (tests give it keys with {@code useKeys}). */
  public SessionVerifier sessionVerifier() {
    return sessionVerifier;
  }

  private boolean operator(RoutingContext ctx) {
    String auth = ctx.request().getHeader("authorization");
    String presented = auth != null && auth.startsWith("Bearer ") ? auth.substring(7) : "";
    if (settings().adminToken().isEmpty()
        || !ServiceHttp.constantTimeEquals(presented, settings().adminToken().get())) {
      ServiceHttp.sendError(ctx, ApiException.unauthorized("admin token required"));
      return false;
    }
    return true;
  }

  private void redrive(RoutingContext ctx) {
    if (!operator(ctx)) {
      return;
    }
    String entry = ctx.pathParam("entry_id");
    if (entry == null || !entry.matches("[0-9]{1,20}-[0-9]{1,20}")) {
      ServiceHttp.sendError(
          ctx,
          ApiException.badRequest(
              "entry_id", "entry_id must be a stream entry id such as 1764158400123-0"));
      return;
    }
    deadLetters
        .redrive(entry, runtime.bus())
        .onSuccess(
            id ->
                id.ifPresentOrElse(
                    newId ->
                        ServiceHttp.json(
                            ctx,
                            200,
                            new JsonObject().put("entry_id", entry).put("new_entry_id", newId)),
                    () ->
                        ServiceHttp.sendError(ctx, ApiException.notFound("dead letter " + entry))))
        .onFailure(
            e ->
                ServiceHttp.sendError(
                    ctx,
                    e instanceof IllegalStateException
                        ? ApiException.conflict(e.getMessage())
                        : new ApiException(
                            503, "unavailable", "dead letter not re-driven: " + e.getMessage())));
  }

  private void deadLetters(RoutingContext ctx) {
    if (!operator(ctx)) {
      return;
    }
    deadLetters
        .recent(200)
        .onSuccess(list -> ServiceHttp.json(ctx, 200, new JsonObject().put("dead_letters", list)))
        .onFailure(ctx::fail);
  }

  @Override
  protected Future<Void> beforeClose() {
    Future<Void> stopped = consumer == null ? Future.succeededFuture() : consumer.stop();
    return stopped.compose(v -> tail == null ? Future.succeededFuture() : tail.close());
  }

  private static String defaultConsumerName() {
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      host = "host";
    }
    String pid = ManagementFactory.getRuntimeMXBean().getName().split("@")[0];
    return host + "-" + pid + "-" + UUID.randomUUID().toString().substring(0, 8);
  }
}
