package dev.umbra.pairing.codes;

import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.auth.FailureLimiter;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SessionAuth;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.ClientAddress;
import dev.umbra.kit.http.Requests;
import dev.umbra.kit.http.ServiceHttp;
import dev.umbra.proto.api.PairingPaths;
import dev.umbra.proto.api.PathTemplates;
import dev.umbra.proto.audit.Actor;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.AuditEvent;
import dev.umbra.proto.audit.Outcome;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/**
 * Pairing codes over HTTP (docs/pairing.md): admins create, list and cancel codes and set the
 * workspace PSK; a daemon redeems a code with its new per-workspace public keys. This class reads
 * requests, checks the caller's role, audits and answers; {@link CodeService} decides and {@link
 * CodeStore} holds the SQL. Redemption failures are rate-limited per client IP across instances.
 */
public final class CodeRoutes {
  public static final int PSK_MIN = 16;
  public static final int PSK_MAX = 256;
  static final Set<String> REDEEM_FIELDS =
      Set.of("code", "install_id", "x25519_public_key", "ed25519_public_key", "name", "os", "psk");

  private final CodeService codes;
  private final FailureLimiter limiter;
  private final AuditEmitter audit;
  private final Role creatorRole;
  private final Map<ServiceName, URI> publicUrls;
  private final MeterRegistry registry;

  public CodeRoutes(
      CodeService codes,
      FailureLimiter limiter,
      AuditEmitter audit,
      Role creatorRole,
      Map<ServiceName, URI> publicUrls,
      MeterRegistry registry) {
    this.codes = codes;
    this.limiter = limiter;
    this.audit = audit;
    this.creatorRole = creatorRole;
    this.publicUrls = publicUrls;
    this.registry = registry;
  }

  public void mount(Router router, SessionAuth auth) {
    String codes = PathTemplates.vertxRoute(PairingPaths.CODES);
    String psk = PathTemplates.vertxRoute(PairingPaths.PSK);
    router.post(codes).handler(auth).handler(json(201, this::create));
    router.get(codes).handler(auth).handler(json(200, this::list));
    router
        .delete(PathTemplates.vertxRoute(PairingPaths.CODE))
        .handler(auth)
        .handler(json(204, this::cancel));
    router.put(psk).handler(auth).handler(json(204, this::setPsk));
    router.delete(psk).handler(auth).handler(json(204, this::clearPsk));
    router.post(PairingPaths.REDEEM).handler(json(201, this::redeem));
  }

  private static Handler<RoutingContext> json(
      int status, Function<RoutingContext, Future<?>> work) {
    return ServiceHttp.jsonHandler(status, work, Function.identity());
  }

  /**
   * The workspace of the path, after checking the session is a member's of it with the creator
   * role.
   */
  private UUID authorized(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    SessionClaims c = SessionAuth.claims(ctx);
    if (!c.workspaceId().equals(wid) || c.subjectKind() != SubjectKind.MEMBER) {
      throw ApiException.notFound("workspace");
    }
    if (!c.role().atLeast(creatorRole)) {
      throw ApiException.forbidden(
          "pairing codes need the " + creatorRole.wire() + " role or higher");
    }
    return wid;
  }

  private void emit(
      RoutingContext ctx,
      UUID wid,
      ActorKind kind,
      String actor,
      AuditAction action,
      String target,
      Outcome outcome,
      String reason) {
    AuditEvent.Builder e =
        AuditEvent.newBuilder()
            .setWorkspaceId(wid == null ? "" : wid.toString())
            .setActor(Actor.newBuilder().setKind(kind).setId(actor == null ? "" : actor))
            .setAction(action.wire())
            .setTarget(target == null ? "" : target)
            .setOutcome(outcome)
            .setSourceIp(ClientAddress.forAudit(ctx));
    if (reason != null) {
      e.putMetadata("reason", reason);
    }
    audit.emit(e);
  }

  private Future<JsonObject> create(RoutingContext ctx) {
    UUID wid = authorized(ctx);
    JsonObject body = Requests.body(ctx, "require_psk");
    boolean requirePsk = Requests.bool(body, "require_psk", false);
    String actor = SessionAuth.claims(ctx).subject();
    return codes
        .create(wid, requirePsk, actor)
        .map(c -> c.stored().toJson().put("code", c.code()))
        .onSuccess(
            j ->
                emit(
                    ctx,
                    wid,
                    ActorKind.ACTOR_KIND_MEMBER,
                    actor,
                    AuditAction.PAIRING_CODE_CREATED,
                    "pairing_code:" + j.getString("id"),
                    Outcome.OUTCOME_SUCCESS,
                    null));
  }

  /**
   * Pending codes, paged by id: {@code ?limit=1..200} (default 50) and {@code ?cursor=<last id>}.
   */
  private Future<JsonObject> list(RoutingContext ctx) {
    UUID wid = authorized(ctx);
    String l = ctx.request().getParam("limit");
    int limit;
    try {
      limit = l == null ? 50 : Integer.parseInt(l);
    } catch (NumberFormatException e) {
      limit = -1;
    }
    if (limit < 1 || limit > 200) {
      throw ApiException.badRequest("limit", "limit must be an integer from 1 to 200");
    }
    String c = ctx.request().getParam("cursor");
    UUID after = c == null || c.isEmpty() ? new UUID(0, 0) : Requests.uuid(c, "cursor");
    return codes
        .pending(wid, after, limit)
        .map(
            page -> {
              JsonArray items = new JsonArray();
              page.items().forEach(code -> items.add(code.toJson()));
              return new JsonObject()
                  .put("items", items)
                  .put("next_cursor", page.next() == null ? null : page.next().toString());
            });
  }

  private Future<Void> cancel(RoutingContext ctx) {
    UUID wid = authorized(ctx);
    UUID id = Requests.uuidParam(ctx, "code_id");
    String actor = SessionAuth.claims(ctx).subject();
    return codes
        .cancel(wid, id)
        .onSuccess(
            v ->
                emit(
                    ctx,
                    wid,
                    ActorKind.ACTOR_KIND_MEMBER,
                    actor,
                    AuditAction.PAIRING_CODE_CANCELLED,
                    "pairing_code:" + id,
                    Outcome.OUTCOME_SUCCESS,
                    "cancelled"));
  }

  private Future<Void> setPsk(RoutingContext ctx) {
    UUID wid = authorized(ctx);
    String psk = Requests.verbatim(Requests.body(ctx, "psk"), "psk", PSK_MIN, PSK_MAX);
    String actor = SessionAuth.claims(ctx).subject();
    return codes.setPsk(wid, psk, actor).onSuccess(v -> pskAudited(ctx, wid, actor, "psk_set"));
  }

  private Future<Void> clearPsk(RoutingContext ctx) {
    UUID wid = authorized(ctx);
    String actor = SessionAuth.claims(ctx).subject();
    return codes.clearPsk(wid).onSuccess(v -> pskAudited(ctx, wid, actor, "psk_cleared"));
  }

  private void pskAudited(RoutingContext ctx, UUID wid, String actor, String reason) {
    emit(
        ctx,
        wid,
        ActorKind.ACTOR_KIND_MEMBER,
        actor,
        AuditAction.POLICY_UPDATED,
        "workspace_psk:" + wid,
        Outcome.OUTCOME_SUCCESS,
        reason);
  }

  private Future<JsonObject> redeem(RoutingContext ctx) {
    Redemption r = Redemption.parse(Requests.body(ctx, REDEEM_FIELDS));
    String ip = "ip:" + ClientAddress.of(ctx);
    // the attempt is reserved before the code is looked up and refunded unless it was a wrong guess
    return limiter
        .guard(
            "too many failed pairing attempts; try again later",
            CodeRoutes::wrongGuess,
            () -> codes.redeem(r).map(done -> redeemed(ctx, done, r)),
            ip)
        .onFailure(e -> refused(ctx, e));
  }

  /** Audits a redemption and answers with the binding and the services' public URLs. */
  private JsonObject redeemed(RoutingContext ctx, CodeService.Redeemed done, Redemption r) {
    JsonObject machine = done.machine();
    emit(
        ctx,
        done.code().workspaceId(),
        ActorKind.ACTOR_KIND_MACHINE,
        machine.getString("id"),
        AuditAction.PAIRING_CODE_REDEEMED,
        "pairing_code:" + done.code().id(),
        Outcome.OUTCOME_SUCCESS,
        null);
    JsonObject services = new JsonObject();
    publicUrls.forEach((s, u) -> services.put(s.id(), u.toString()));
    return new JsonObject()
        .put("workspace_id", done.code().workspaceId().toString())
        .put("machine_id", machine.getString("id"))
        .put("install_id", r.installId().toString())
        .put("machine", machine)
        .put("psk_required", done.code().requirePsk())
        .put("control_plane_url", publicUrls.get(ServiceName.CONTROL_PLANE).toString())
        .put("services", services);
  }

  /** A wrong guess is counted by reason and audited as a refusal (without the code). */
  private void refused(RoutingContext ctx, Throwable e) {
    if (wrongGuess(e)) {
      String reason = ((ApiException) e).code();
      registry
          .counter(
              dev.umbra.kit.metrics.Metrics.name("pairing", "redeem_failures"), "reason", reason)
          .increment();
      emit(
          ctx,
          null,
          ActorKind.ACTOR_KIND_ANONYMOUS,
          null,
          AuditAction.PAIRING_CODE_REFUSED,
          "",
          Outcome.OUTCOME_DENIED,
          reason);
    }
  }

  /** An unknown, used, cancelled or expired code, or a wrong PSK: what the limiter counts. */
  private static boolean wrongGuess(Throwable e) {
    return e instanceof ApiException api && (api.status() == 404 || api.status() == 401);
  }
}
