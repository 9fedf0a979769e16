package dev.umbra.controlplane;

import dev.umbra.controlplane.agents.AgentRoutes;
import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.bootstrap.Bootstrap;
import dev.umbra.controlplane.devices.DeviceTrustRoutes;
import dev.umbra.controlplane.devices.MachineRequest;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.inbox.InboxRoutes;
import dev.umbra.controlplane.machines.MachineAuditRoutes;
import dev.umbra.controlplane.machines.MachineRoutes;
import dev.umbra.controlplane.messaging.BrowserBearer;
import dev.umbra.controlplane.messaging.MessagingAuth;
import dev.umbra.controlplane.messaging.MessagingFeature;
import dev.umbra.controlplane.notify.AuditOutbox;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.notify.RevocationNotices;
import dev.umbra.controlplane.plans.PlanRoutes;
import dev.umbra.controlplane.runs.RunRoutes;
import dev.umbra.controlplane.runs.RunStore;
import dev.umbra.controlplane.sessions.SessionIssuer;
import dev.umbra.controlplane.sessions.SigningKeys;
import dev.umbra.controlplane.sharing.ShareRoutes;
import dev.umbra.controlplane.sharing.WorkAccess;
import dev.umbra.controlplane.tokens.TokenRoutes;
import dev.umbra.controlplane.tokens.TokenStore;
import dev.umbra.controlplane.ttypolicy.TtyPolicyRoutes;
import dev.umbra.controlplane.vault.VaultRoutes;
import dev.umbra.controlplane.webapp.WebApp;
import dev.umbra.controlplane.workflows.WorkflowRoutes;
import dev.umbra.controlplane.workspaces.InvitationRoutes;
import dev.umbra.controlplane.workspaces.TeamRoutes;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.controlplane.workspaces.WorkspaceRoutes;
import dev.umbra.crypto.secret.Argon2idHasher;
import dev.umbra.kit.auth.FailureLimiter;
import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.auth.SessionTokens;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.kit.service.UmbraService;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.io.PrintStream;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The control-plane service verticle: workspaces, members, invitations, teams, API tokens,
 * machines, session tokens and their key set, discovery (docs/control-plane.md).
 */
public final class ControlPlaneService extends UmbraService {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(ControlPlaneService.class);

  /** The default and longest life of the session tokens it signs. */
  public static final Duration SESSION_TTL = dev.umbra.kit.auth.SessionTokens.MAX_TTL;

  /**
   * The shortest {@code UMBRA_SESSION_TOKEN_TTL_SECONDS}: a live messaging socket lives no longer
   * than its token, so a shorter one would have clients reconnecting all the time (and a token
   * could expire between its minting and its use).
   */
  public static final int SESSION_TTL_MIN_SECONDS = 10;

  private static final long ROTATION_CHECK_MS = Duration.ofMinutes(10).toMillis();

  private final PrintStream stderr;
  private ApiRoutes routes;
  private AuditOutbox auditOutbox;
  private Router router;
  private SigningKeys keys;
  private long rotationTimer = -1;
  private MessagingFeature messaging;
  private MessagingAuth messagingAuth;
  private Duration sessionTtl = SESSION_TTL;

  public ControlPlaneService(ServiceRuntime runtime) {
    this(runtime, System.err);
  }

  /** {@code stderr} receives the one line that prints a generated bootstrap token. */
  public ControlPlaneService(ServiceRuntime runtime, PrintStream stderr) {
    super(runtime);
    this.stderr = stderr;
  }

  /**
   * The control plane authenticates API tokens (revoked in PG) on its API, and its own session
   * tokens only on the messaging routes and socket (docs/messaging.md), which honour revocations.
   */
  /**
   * Pairing creates machine bindings on {@code /internal/}: with mutual TLS the listener asks for
   * client certificates. Browsers load the app from this origin, so their WebSockets here follow a
   * request Chromium has already settled (docs/deploy.md).
   */
  @Override
  protected boolean servesServiceToServiceCalls() {
    return true;
  }

  @Override
  protected boolean acceptsSessionTokens() {
    return true;
  }

  /**
   * The browser app's messaging socket offers {@value BrowserBearer#PROTOCOL} (and its token, read
   * only from the page's own origin): the server selects it, so the token is never echoed.
   */
  @Override
  protected io.vertx.core.http.HttpServerOptions httpServerOptions() {
    return new io.vertx.core.http.HttpServerOptions()
        .setWebSocketSubProtocols(List.of(BrowserBearer.PROTOCOL));
  }

  /** {@code UMBRA_SESSION_TOKEN_TTL_SECONDS}: the life of the session tokens it signs. */
  private static Duration sessionTtl(dev.umbra.kit.config.Env env) {
    int max = (int) SESSION_TTL.toSeconds();
    return Duration.ofSeconds(
        env.boundedInt("UMBRA_SESSION_TOKEN_TTL_SECONDS", max, SESSION_TTL_MIN_SECONDS, max));
  }

  @Override
  protected Future<Void> mount(Router router) {
    this.router = router;
    Optional<String> bootstrapToken;
    try {
      bootstrapToken = Bootstrap.configured(settings().env());
      sessionTtl = sessionTtl(settings().env());
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    var clock = runtime.clock();
    int maxFailures = settings().env().positiveInt("UMBRA_CONTROL_PLANE_AUTH_MAX_FAILURES", 20);
    FailureLimiter limiter = new FailureLimiter(db, clock, maxFailures, Duration.ofMinutes(5));
    Argon2idHasher hasher = Argon2idHasher.defaults();
    InternalCredential[] internalHolder = new InternalCredential[1];
    WebApp[] webApp = new WebApp[1];
    return vertx
        .executeBlocking(
            () -> {
              internalHolder[0] = InternalCredential.load(settings()); // may create the shared file
              webApp[0] =
                  WebApp.load(
                      ControlPlaneService.class.getClassLoader(),
                      Stream.of(ServiceName.values()) // connect-src: the discovery's URLs
                          .map(settings().publicUrls()::get)
                          .toList());
              return new Authenticator(vertx, db, hasher, limiter, clock, runtime.registry());
            },
            false)
        .compose(
            auth ->
                SigningKeys.open(
                        vertx,
                        db,
                        settings().home().resolve("control-plane").resolve("signing"),
                        clock,
                        sessionTtl)
                    .compose(
                        k -> {
                          keys = k;
                          Ids ids = new Ids(clock);
                          TokenStore tokens = new TokenStore(vertx, hasher);
                          auditOutbox =
                              new AuditOutbox(
                                  vertx, db, runtime.audit(), clock, runtime.registry());
                          AuditTrail trail = new AuditTrail(runtime.audit(), auditOutbox);
                          Bootstrap bootstrap =
                              Bootstrap.wire(db, tokens, limiter, trail, ids, clock);
                          routes = new ApiRoutes();
                          registerOwn(routes);
                          bootstrap.register(routes);
                          registerFeatures(
                              routes,
                              auth,
                              internalHolder[0],
                              limiter,
                              tokens,
                              new SessionIssuer(k, clock),
                              trail,
                              ids,
                              clock);
                          mountRoutes(router, auth, internalHolder[0]);
                          webApp[0].mount(router);
                          rotationTimer =
                              vertx.setPeriodic(
                                  ROTATION_CHECK_MS,
                                  t ->
                                      keys.rotateIfDue()
                                          .onFailure(
                                              e ->
                                                  log.warn(
                                                      "signing key rotation failed, will retry: {}",
                                                      e.getMessage())));
                          return bootstrap.prepare(bootstrapToken, stderr);
                        }));
  }

  /** Discovery, the key set and this document. */
  private void registerOwn(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.GET,
            ControlPlanePaths.DISCOVERY,
            "Public URLs of every service and of the key set",
            Auth.NONE,
            200,
            Schema.NO_BODY,
            DISCOVERY,
            Handlers.json(200, ctx -> Future.succeededFuture(discovery())))
        .add(
            HttpMethod.GET,
            SessionTokens.JWKS_PATH,
            "Public keys that verify session tokens (JWKS)",
            Auth.NONE,
            200,
            Schema.NO_BODY,
            JWKS,
            Handlers.json(
                200,
                ctx -> {
                  ctx.response().putHeader("cache-control", "max-age=60");
                  return keys.jwks();
                }))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.OPENAPI,
            "This document",
            Auth.NONE,
            200,
            Schema.NO_BODY,
            Schema.anyObject("an OpenAPI 3.1 document").describe("this document"),
            Handlers.json(
                200, ctx -> Future.succeededFuture(routes.openApi("Umbra control plane", "v1"))));
  }

  /** Each feature wired by hand with only what it uses (docs/control-plane.md, "Code layout"). */
  private void registerFeatures(
      ApiRoutes routes,
      Authenticator auth,
      InternalCredential internal,
      FailureLimiter limiter,
      TokenStore tokens,
      SessionIssuer issuer,
      AuditTrail audit,
      Ids ids,
      Clock clock) {
    Tenancy tenancy = new Tenancy(db, runtime.audit());
    RevocationNotices revocations = new RevocationNotices(vertx, runtime.bus(), clock);
    MachineRequest.Checker machines = new MachineRequest.Checker(clock, db, limiter);
    WorkspaceRoutes.wire(auth, db, tenancy, audit, revocations, issuer, ids, clock)
        .register(routes);
    InvitationRoutes.wire(auth, db, tenancy, tokens, limiter, audit, ids, clock).register(routes);
    TeamRoutes.wire(auth, tenancy, audit, ids, clock).register(routes);
    TokenRoutes.wire(auth, db, tokens, audit, revocations, ids, clock).register(routes);
    MachineRoutes.wire(auth, internal, db, tenancy, limiter, issuer, audit, revocations, ids, clock)
        .register(routes);
    RunStore runs = new RunStore();
    new MachineAuditRoutes(clock, machines, runtime.audit(), runs, ids).register(routes);
    DeviceTrustRoutes.wire(auth, tenancy, audit, revocations, machines, clock).register(routes);
    VaultRoutes.wire(auth, tenancy, audit, machines, ids, clock).register(routes);
    TtyPolicyRoutes.wire(auth, tenancy, audit, machines, clock).register(routes);
    WorkflowRoutes.wire(auth, tenancy, audit, runtime.audit(), machines, runs, ids, clock)
        .register(routes);
    AgentRoutes.wire(
            auth,
            tenancy,
            runtime.audit(),
            audit,
            revocations,
            machines,
            issuer,
            limiter,
            ids,
            clock)
        .register(routes);
    messagingAuth =
        new MessagingAuth(
            vertx,
            keys,
            this.revocations,
            clock,
            new BrowserBearer(settings().publicUrls().get(ServiceName.CONTROL_PLANE)));
    var env = settings().env();
    messaging =
        new MessagingFeature(
            new MessagingFeature.Wiring(
                vertx,
                db,
                runtime.bus(),
                runtime.audit(),
                this.revocations,
                auth,
                tenancy,
                runtime.registry(),
                ids,
                clock,
                internal,
                auditOutbox),
            new MessagingFeature.Settings(
                Duration.ofHours(env.positiveInt("UMBRA_MESSAGE_RETENTION_HOURS", 14 * 24)),
                Duration.ofMillis(env.positiveInt("UMBRA_WEBHOOK_FIRST_RETRY_MS", 1000)),
                "true".equals(env.string("UMBRA_WEBHOOK_ALLOW_HTTP", "false")),
                "true".equals(env.string("UMBRA_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "false")),
                Duration.ofSeconds(env.positiveInt("UMBRA_MESSAGE_SOCKET_IDLE_SECONDS", 90)),
                env.positiveInt("UMBRA_MESSAGE_PENDING_PER_RECIPIENT", 5000),
                env.positiveInt("UMBRA_MESSAGE_PENDING_PER_SENDER", 20000)));
    messaging.register(routes);
    messaging.start();
    auditOutbox.start();
    WorkAccess work = new WorkAccess(db, auth);
    new ShareRoutes(work, runtime.audit(), clock).register(routes);
    PlanRoutes.wire(work, runtime.audit(), ids, clock).register(routes);
    InboxRoutes.wire(vertx, runtime.bus(), work, machines, runtime.audit(), ids, clock)
        .register(routes);
    new RunRoutes(work, runs).register(routes);
  }

  /** Owner-agent messaging (tests reach its live sockets and retention sweep). */
  public MessagingFeature messaging() {
    return messaging;
  }

  private void mountRoutes(Router router, Authenticator auth, InternalCredential internal) {
    routes.mount(
        router,
        kind ->
            switch (kind) {
              case API_TOKEN -> Optional.of(auth.first());
              case INTERNAL ->
                  Optional.of(
                      ctx -> {
                        if (internal.admits(ctx.request())) {
                          ctx.next();
                        } else {
                          ctx.fail(ApiException.unauthorized("internal credential required"));
                        }
                      });
              case SESSION_TOKEN -> Optional.of(messagingAuth.first());
              case API_OR_SESSION_TOKEN ->
                  Optional.of(WorkAccess.first(auth.first(), messagingAuth.first()));
              case NONE, MACHINE_SIGNATURE -> Optional.empty();
            });
  }

  private static final Schema DISCOVERY =
      Schema.object()
          .required(
              "services",
              discoveryServices()
                  .describe(
                      "each service's public base URL (http or https; WebSockets use ws/wss on the same URL)"))
          .required("jwks_url", Schema.string().describe("where session tokens' public keys are"))
          .required("session_token_ttl_seconds", Schema.integer(1, Integer.MAX_VALUE))
          .build();
  private static final Schema JWKS =
      Schema.object()
          .required(
              "keys",
              Schema.array(
                  Schema.object()
                      .required("kty", Schema.constant("OKP"))
                      .required("crv", Schema.constant("Ed25519"))
                      .required("x", Schema.string().describe("base64url, no padding"))
                      .required("kid", Schema.string())
                      .optional("alg", Schema.constant("EdDSA"))
                      .optional("use", Schema.constant("sig"))
                      .build()))
          .build();

  private static Schema discoveryServices() {
    Schema.ObjectBuilder b = Schema.object();
    for (ServiceName s : ServiceName.values()) {
      b.required(s.id(), Schema.string());
    }
    return b.build();
  }

  private JsonObject discovery() {
    Map<ServiceName, URI> urls = settings().publicUrls();
    JsonObject services = new JsonObject();
    for (ServiceName s : ServiceName.values()) {
      services.put(s.id(), urls.get(s).toString());
    }
    String cp = urls.get(ServiceName.CONTROL_PLANE).toString().replaceAll("/+$", "");
    return new JsonObject()
        .put("services", services)
        .put("jwks_url", cp + SessionTokens.JWKS_PATH)
        .put("session_token_ttl_seconds", sessionTtl.toSeconds());
  }

  /** The route table (tests compare it with the router and the OpenAPI document). */
  public ApiRoutes routes() {
    return routes;
  }

  /** The router as mounted (tests compare its routes with the OpenAPI document). */
  @Override
  public Router router() {
    return router;
  }

  public SigningKeys signingKeys() {
    return keys;
  }

  @Override
  protected Future<Void> beforeClose() {
    if (rotationTimer >= 0) {
      vertx.cancelTimer(rotationTimer);
    }
    return Future.join(
            messaging == null ? Future.succeededFuture() : messaging.stop(),
            auditOutbox == null ? Future.succeededFuture() : auditOutbox.stop())
        .mapEmpty();
  }
}
