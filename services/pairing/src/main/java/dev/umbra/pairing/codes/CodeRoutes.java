package dev.umbra.pairing.codes;

import dev.umbra.crypto.secret.Argon2idHasher;
import dev.umbra.crypto.secret.Blake2b256;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.auth.FailureLimiter;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SessionAuth;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.ClientAddress;
import dev.umbra.kit.http.Requests;
import dev.umbra.kit.http.ServiceHttp;
import dev.umbra.kit.id.Ulid;
import dev.umbra.pairing.controlplane.ControlPlaneClient;
import dev.umbra.proto.api.PairingPaths;
import dev.umbra.proto.api.PathTemplates;
import dev.umbra.proto.audit.Actor;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.AuditEvent;
import dev.umbra.proto.audit.Outcome;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/**
 * Pairing codes: admins create (a ULID shown once, stored as its BLAKE2b-256 hash, valid {@link
 * #VALIDITY}, single use, optionally requiring the workspace PSK), list and cancel them; a daemon
 * redeems one with its new per-workspace public keys. Redemption is atomic (one conditional UPDATE
 * claims the code), creates the binding in the control plane, and releases the claim when that
 * fails. Unknown, used, cancelled and expired codes get the same answer, and failures are
 * rate-limited per client IP across instances.
 */
public final class CodeRoutes {
  public static final Duration VALIDITY = Duration.ofMinutes(15);
  public static final int PSK_MIN = 16;
  public static final int PSK_MAX = 256;
  static final Set<String> REDEEM_FIELDS =
      Set.of("code", "install_id", "x25519_public_key", "ed25519_public_key", "name", "os", "psk");

  private final Vertx vertx;
  private final Database db;
  private final Clock clock;
  private final Ulid ulids;
  private final Argon2idHasher hasher;
  private final FailureLimiter limiter;
  private final ControlPlaneClient controlPlane;
  private final AuditEmitter audit;
  private final Role creatorRole;
  private final Map<ServiceName, URI> publicUrls;
  private final MeterRegistry registry;
  private volatile String dummyPskHash;

  public CodeRoutes(
      Vertx vertx,
      Database db,
      Clock clock,
      Argon2idHasher hasher,
      FailureLimiter limiter,
      ControlPlaneClient controlPlane,
      AuditEmitter audit,
      Role creatorRole,
      Map<ServiceName, URI> publicUrls,
      MeterRegistry registry) {
    this.vertx = vertx;
    this.db = db;
    this.clock = clock;
    this.ulids = new Ulid(clock, new SecureRandom());
    this.hasher = hasher;
    this.limiter = limiter;
    this.controlPlane = controlPlane;
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

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
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

  static byte[] hashCode(String code) {
    return Blake2b256.hash(code.toUpperCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII));
  }

  private static JsonObject json(Row r) {
    return new JsonObject()
        .put("id", r.getUUID("id").toString())
        .put("require_psk", r.getBoolean("require_psk"))
        .put("created_at", r.getOffsetDateTime("created_at").toString())
        .put("expires_at", r.getOffsetDateTime("expires_at").toString());
  }

  private Future<JsonObject> create(RoutingContext ctx) {
    UUID wid = authorized(ctx);
    JsonObject body = Requests.body(ctx, "require_psk");
    boolean requirePsk = Requests.bool(body, "require_psk", false);
    String code = ulids.next();
    UUID id = UUID.randomUUID();
    String actor = SessionAuth.claims(ctx).subject();
    return db.inWorkspace(
            wid,
            conn ->
                (requirePsk
                        ? conn.preparedQuery("SELECT 1 FROM workspace_psks")
                            .execute()
                            .compose(
                                rows ->
                                    rows.size() == 0
                                        ? Future.failedFuture(
                                            new ApiException(
                                                409,
                                                "no_psk",
                                                "the workspace has no PSK; set one first",
                                                "require_psk"))
                                        : Future.succeededFuture())
                        : Future.succeededFuture())
                    .compose(
                        x ->
                            conn.preparedQuery(
                                    "INSERT INTO codes (workspace_id, id, code_hash, require_psk, created_by, created_at, expires_at) "
                                        + "VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING *")
                                .execute(
                                    Tuple.from(
                                        new Object[] {
                                          wid,
                                          id,
                                          Buffer.buffer(hashCode(code)),
                                          requirePsk,
                                          actor,
                                          now(),
                                          now().plus(VALIDITY)
                                        }))))
        .map(rows -> json(rows.iterator().next()).put("code", code))
        .onSuccess(
            j ->
                emit(
                    ctx,
                    wid,
                    ActorKind.ACTOR_KIND_MEMBER,
                    actor,
                    AuditAction.PAIRING_CODE_CREATED,
                    "pairing_code:" + id,
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
    int pageSize = limit;
    return db.inWorkspace(
            wid,
            conn ->
                conn.preparedQuery(
                        "SELECT * FROM codes WHERE used_at IS NULL AND cancelled_at IS NULL AND expires_at > $1 AND id > $2 ORDER BY id LIMIT $3")
                    .execute(Tuple.of(now(), after, pageSize + 1)))
        .map(
            rows -> {
              JsonArray items = new JsonArray();
              String next = null;
              int i = 0;
              for (Row r : rows) {
                if (i++ < pageSize) {
                  items.add(json(r));
                  next = r.getUUID("id").toString();
                }
              }
              return new JsonObject()
                  .put("items", items)
                  .put("next_cursor", rows.size() > pageSize ? next : null);
            });
  }

  private Future<Void> cancel(RoutingContext ctx) {
    UUID wid = authorized(ctx);
    UUID id = Requests.uuidParam(ctx, "code_id");
    String actor = SessionAuth.claims(ctx).subject();
    return db.inWorkspace(
            wid,
            conn ->
                conn.preparedQuery(
                        "UPDATE codes SET cancelled_at = $2 WHERE id = $1 AND used_at IS NULL AND cancelled_at IS NULL")
                    .execute(Tuple.of(id, now())))
        .compose(
            r ->
                r.rowCount() == 0
                    ? Future.<Void>failedFuture(ApiException.notFound("pending pairing code"))
                    : Future.<Void>succeededFuture())
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
    return vertx
        .executeBlocking(() -> hasher.hash(psk.getBytes(StandardCharsets.UTF_8)), false)
        .compose(
            hash ->
                db.inWorkspace(
                    wid,
                    conn ->
                        conn.preparedQuery(
                                "INSERT INTO workspace_psks (workspace_id, psk_hash, updated_at, updated_by) VALUES ($1,$2,$3,$4) "
                                    + "ON CONFLICT (workspace_id) DO UPDATE SET psk_hash = excluded.psk_hash, updated_at = excluded.updated_at, updated_by = excluded.updated_by")
                            .execute(Tuple.of(wid, hash, now(), actor))))
        .<Void>mapEmpty()
        .onSuccess(
            v ->
                emit(
                    ctx,
                    wid,
                    ActorKind.ACTOR_KIND_MEMBER,
                    actor,
                    AuditAction.POLICY_UPDATED,
                    "workspace_psk:" + wid,
                    Outcome.OUTCOME_SUCCESS,
                    "psk_set"));
  }

  private Future<Void> clearPsk(RoutingContext ctx) {
    UUID wid = authorized(ctx);
    String actor = SessionAuth.claims(ctx).subject();
    return db.inWorkspace(
            wid,
            conn ->
                conn.preparedQuery("DELETE FROM workspace_psks WHERE workspace_id = $1")
                    .execute(Tuple.of(wid)))
        .<Void>mapEmpty()
        .onSuccess(
            v ->
                emit(
                    ctx,
                    wid,
                    ActorKind.ACTOR_KIND_MEMBER,
                    actor,
                    AuditAction.POLICY_UPDATED,
                    "workspace_psk:" + wid,
                    Outcome.OUTCOME_SUCCESS,
                    "psk_cleared"));
  }

  /** A code that was found and may be claimed. */
  private record Found(UUID id, UUID workspaceId, boolean requirePsk) {}

  private static ApiException invalidCode() {
    return new ApiException(
        404, "invalid_code", "pairing code is unknown, used, cancelled or expired", "code");
  }

  private Future<JsonObject> redeem(RoutingContext ctx) {
    Redemption r = Redemption.parse(Requests.body(ctx, REDEEM_FIELDS));
    String ip = "ip:" + ClientAddress.of(ctx);
    // the attempt is reserved before the code is looked up and refunded unless it was a wrong guess
    return limiter
        .guard(
            "too many failed pairing attempts; try again later",
            CodeRoutes::wrongGuess,
            () ->
                find(r.code())
                    .compose(found -> checkPsk(found, r.psk()).map(found))
                    .compose(
                        found -> bind(found, r).map(machine -> redeemed(ctx, found, r, machine))),
            ip)
        .onFailure(e -> refused(ctx, e));
  }

  /**
   * Claims the code and creates the machine's binding in the control plane (the claim is released
   * when that fails), then records the machine on the code: the control plane's machine.
   */
  private Future<JsonObject> bind(Found found, Redemption r) {
    return claim(found)
        .compose(
            v ->
                controlPlane
                    .createMachine(found.workspaceId(), r.machine("pairing_code:" + found.id()))
                    .recover(e -> release(found).transform(x -> Future.failedFuture(e))))
        .compose(
            machine ->
                db.inWorkspace(
                        found.workspaceId(),
                        conn ->
                            conn.preparedQuery("UPDATE codes SET machine_id = $2 WHERE id = $1")
                                .execute(
                                    Tuple.of(found.id(), UUID.fromString(machine.getString("id")))))
                    .map(machine));
  }

  /** Audits a redemption and answers with the binding and the services' public URLs. */
  private JsonObject redeemed(RoutingContext ctx, Found found, Redemption r, JsonObject machine) {
    emit(
        ctx,
        found.workspaceId(),
        ActorKind.ACTOR_KIND_MACHINE,
        machine.getString("id"),
        AuditAction.PAIRING_CODE_REDEEMED,
        "pairing_code:" + found.id(),
        Outcome.OUTCOME_SUCCESS,
        null);
    JsonObject services = new JsonObject();
    publicUrls.forEach((s, u) -> services.put(s.id(), u.toString()));
    return new JsonObject()
        .put("workspace_id", found.workspaceId().toString())
        .put("machine_id", machine.getString("id"))
        .put("install_id", r.installId().toString())
        .put("machine", machine)
        .put("psk_required", found.requirePsk())
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

  /**
   * Looks the code up by hash (RLS shows only that row); unknown, used, cancelled or expired all
   * fail alike.
   */
  private Future<Found> find(String code) {
    if (!Ulid.isValid(code)) {
      return Future.failedFuture(invalidCode());
    }
    String hex = HexFormat.of().formatHex(hashCode(code));
    return db.withTransaction(
            conn ->
                conn.preparedQuery("SELECT set_config('umbra.pairing_code_hash', $1, true)")
                    .execute(Tuple.of(hex))
                    .compose(
                        x ->
                            conn.preparedQuery(
                                    "SELECT id, workspace_id, require_psk FROM codes WHERE code_hash = decode($1, 'hex') "
                                        + "AND used_at IS NULL AND cancelled_at IS NULL AND expires_at > $2")
                                .execute(Tuple.of(hex, now()))))
        .compose(
            rows -> {
              if (rows.size() == 0) {
                return Future.failedFuture(invalidCode());
              }
              Row r = rows.iterator().next();
              return Future.succeededFuture(
                  new Found(
                      r.getUUID("id"), r.getUUID("workspace_id"), r.getBoolean("require_psk")));
            });
  }

  private Future<Void> checkPsk(Found found, String psk) {
    if (!found.requirePsk()) {
      return Future.succeededFuture();
    }
    ApiException bad =
        new ApiException(
            401,
            "invalid_psk",
            "this pairing code requires the workspace PSK; it was missing or wrong",
            "psk");
    return db.inWorkspace(
            found.workspaceId(),
            conn -> conn.preparedQuery("SELECT psk_hash FROM workspace_psks").execute())
        .compose(
            rows -> {
              String stored =
                  rows.size() == 0 ? null : rows.iterator().next().getString("psk_hash");
              byte[] presented = (psk == null ? "" : psk).getBytes(StandardCharsets.UTF_8);
              // with no PSK set, check against a dummy so the time taken does not tell
              return vertx
                  .executeBlocking(
                      () ->
                          hasher.verify(stored == null ? dummyPskHash() : stored, presented)
                              && psk != null,
                      false)
                  .compose(
                      ok ->
                          ok && rows.size() > 0
                              ? Future.<Void>succeededFuture()
                              : Future.<Void>failedFuture(bad));
            });
  }

  private String dummyPskHash() {
    String d = dummyPskHash;
    if (d == null) {
      d = hasher.hash("not-a-psk-but-as-slow-to-check".getBytes(StandardCharsets.US_ASCII));
      dummyPskHash = d;
    }
    return d;
  }

  /** The atomic step: of concurrent claims of one code exactly one updates the row. */
  private Future<Void> claim(Found found) {
    return db.inWorkspace(
            found.workspaceId(),
            conn ->
                conn.preparedQuery(
                        "UPDATE codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND cancelled_at IS NULL AND expires_at > $2")
                    .execute(Tuple.of(found.id(), now())))
        .compose(
            r ->
                r.rowCount() == 1
                    ? Future.<Void>succeededFuture()
                    : Future.<Void>failedFuture(invalidCode()));
  }

  /** Undoes a claim whose binding could not be created, so the code can be tried again. */
  private Future<Void> release(Found found) {
    return db.inWorkspace(
            found.workspaceId(),
            conn ->
                conn.preparedQuery(
                        "UPDATE codes SET used_at = NULL WHERE id = $1 AND machine_id IS NULL")
                    .execute(Tuple.of(found.id())))
        .mapEmpty();
  }
}
