package dev.umbra.controlplane.machines;

import dev.umbra.controlplane.Wiring;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Page;
import dev.umbra.controlplane.http.Requests;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.sessions.SessionIssuer;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.ClientAddress;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.Outcome;
import dev.umbra.proto.bus.RevokedKind;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Machines (daemon bindings): members list them, admins rename and revoke them (a revocation is
 * published once committed, dev.umbra.kit.revocation); the pairing service creates them through the
 * internal endpoint; a daemon gets session tokens by signing with its binding's Ed25519 key.
 */
public final class MachineRoutes {
  /**
   * How far a machine's signed timestamp may be from the server's clock; within it, each machine's
   * timestamps must also increase strictly, so a captured request cannot be replayed.
   */
  public static final Duration MAX_SKEW = dev.umbra.controlplane.devices.MachineRequest.MAX_SKEW;
  private final Wiring w;

  public MachineRoutes(Wiring w) {
    this.w = w;
  }

  static final Schema MACHINE = Schema.named("Machine", Schema.object()
      .required("id", Schema.uuid()).required("workspace_id", Schema.uuid()).required("install_id", Schema.uuid())
      .required("name", Schema.string()).required("os", Schema.string())
      .required("x25519_public_key", Schema.hex(32)).required("ed25519_public_key", Schema.hex(32).describe("the binding key; signs machine requests"))
      .required("created_at", Schema.time()).required("last_seen_at", Schema.nullable(Schema.time()))
      .required("revoked_at", Schema.nullable(Schema.time())).required("status", Schema.oneOf("active", "revoked")).build());
  private static final Schema CREATE = Schema.object()
      .required("install_id", Schema.uuid()).required("x25519_public_key", Schema.hex(32)).required("ed25519_public_key", Schema.hex(32))
      .required("name", Schema.string(1, Requests.MAX_NAME)).optional("os", Schema.string(1, 64).describe("default unknown"))
      .optional("paired_by", Schema.string(0, 128)).build();
  private static final Schema MACHINE_SESSION_REQUEST = dev.umbra.controlplane.devices.MachineRequest.schema()
      .required("audience", Schema.oneOf(SessionIssuer.AUDIENCES.stream().sorted().toArray(String[]::new))).build()
      .describe("signature over \"umbra-machine-session/v1\\n<workspace_id>\\n<machine_id>\\n<audience>\\n<timestamp_ms>\"; "
          + "timestamp_ms strictly increasing per machine");
  private static final Schema MACHINE_SESSION = Schema.object()
      .required("token", Schema.string()).required("audience", Schema.string()).required("expires_at", Schema.time()).build();

  public void register(ApiRoutes routes) {
    routes
        .add(HttpMethod.GET, "/v1/workspaces/{workspace_id}/machines", "List machines", Auth.API_TOKEN, 200, Schema.NO_BODY, Schema.page(MACHINE), Handlers.json(200, this::list))
        .add(HttpMethod.GET, "/v1/workspaces/{workspace_id}/machines/{machine_id}", "Get a machine", Auth.API_TOKEN, 200, Schema.NO_BODY, MACHINE, Handlers.json(200, this::get))
        .add(HttpMethod.PATCH, "/v1/workspaces/{workspace_id}/machines/{machine_id}", "Rename a machine (admin)", Auth.API_TOKEN, 200,
            Schema.object().required("name", Schema.string(1, Requests.MAX_NAME)).build(), MACHINE, Handlers.json(200, this::rename))
        .add(HttpMethod.DELETE, "/v1/workspaces/{workspace_id}/machines/{machine_id}", "Revoke a machine (admin)", Auth.API_TOKEN, 204, Schema.NO_BODY, Schema.EMPTY, Handlers.json(204, this::revoke))
        .add(HttpMethod.POST, "/internal/v1/workspaces/{workspace_id}/machines", "Create a machine binding (pairing service only)", Auth.INTERNAL, 201, CREATE, MACHINE, Handlers.json(201, this::createInternal))
        .add(HttpMethod.POST, "/v1/machine-sessions", "Issue a session token to a machine that signs with its binding key", Auth.MACHINE_SIGNATURE, 201,
            MACHINE_SESSION_REQUEST, MACHINE_SESSION, Handlers.json(201, this::machineSession));
  }

  static JsonObject json(Row r) {
    return new JsonObject()
        .put("id", r.getUUID("id").toString())
        .put("workspace_id", r.getUUID("workspace_id").toString())
        .put("install_id", r.getUUID("install_id").toString())
        .put("name", r.getString("name"))
        .put("os", r.getString("os"))
        .put("x25519_public_key", HexFormat.of().formatHex(r.getBuffer("x25519_public_key").getBytes()))
        .put("ed25519_public_key", HexFormat.of().formatHex(r.getBuffer("ed25519_public_key").getBytes()))
        .put("created_at", r.getOffsetDateTime("created_at").toString())
        .put("last_seen_at", str(r.getOffsetDateTime("last_seen_at")))
        .put("revoked_at", str(r.getOffsetDateTime("revoked_at")))
        .put("status", r.getOffsetDateTime("revoked_at") == null ? "active" : "revoked");
  }

  private static String str(OffsetDateTime t) {
    return t == null ? null : t.toString();
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    Page page = Page.of(ctx);
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.VIEWER, (conn, m) ->
            conn.preparedQuery("SELECT * FROM machines WHERE id > $1 ORDER BY id LIMIT $2").execute(Tuple.of(page.after(), page.fetch()))))
        .map(rows -> {
          java.util.List<Row> list = new java.util.ArrayList<>();
          rows.forEach(list::add);
          return page.render(list, r -> r.getUUID("id"), MachineRoutes::json);
        });
  }

  private static Future<JsonObject> one(io.vertx.sqlclient.SqlConnection conn, UUID id) {
    return conn.preparedQuery("SELECT * FROM machines WHERE id = $1").execute(Tuple.of(id))
        .compose(rows -> rows.size() == 0 ? Future.failedFuture(ApiException.notFound("machine")) : Future.succeededFuture(json(rows.iterator().next())));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID mid = Requests.uuidParam(ctx, "machine_id");
    return w.auth().authenticate(ctx, false)
        .compose(p -> w.tenancy().asMember(p, wid, Role.VIEWER, (conn, m) -> one(conn, mid)));
  }

  private Future<JsonObject> rename(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID mid = Requests.uuidParam(ctx, "machine_id");
    String name = Requests.name(Requests.body(ctx, "name"), "name");
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            conn.preparedQuery("UPDATE machines SET name = $2 WHERE id = $1").execute(Tuple.of(mid, name))
                .compose(r -> one(conn, mid))
                .onSuccess(j -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.MACHINE_UPDATED, "machine:" + mid, Outcome.OUTCOME_SUCCESS))));
  }

  private Future<Void> revoke(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID mid = Requests.uuidParam(ctx, "machine_id");
    return w.auth().authenticate(ctx, true)
        .compose(p -> w.tenancy().asMember(p, wid, Role.ADMIN, (conn, m) ->
            conn.preparedQuery("UPDATE machines SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1").execute(Tuple.of(mid, w.now()))
                .compose(r -> r.rowCount() == 0 ? Future.<Void>failedFuture(ApiException.notFound("machine")) : Future.<Void>succeededFuture())
                .map(v -> p))
            // published once committed, so no service refuses what a rolled-back revocation kept
            .onSuccess(p2 -> {
              w.revoked(RevokedKind.REVOKED_KIND_MACHINE, wid, mid.toString(), null);
              w.audit(ctx, wid, ActorKind.ACTOR_KIND_MEMBER, p.accountId(), AuditAction.MACHINE_UNPAIRED, "machine:" + mid, Outcome.OUTCOME_SUCCESS);
            }).mapEmpty());
  }

  private Future<JsonObject> createInternal(RoutingContext ctx) {
    if (!w.internal().matches(ctx.request().getHeader(InternalCredential.HEADER))) {
      return Future.failedFuture(ApiException.unauthorized("internal credential required"));
    }
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    JsonObject body = Requests.body(ctx, "install_id", "x25519_public_key", "ed25519_public_key", "name", "os", "paired_by");
    UUID install = Requests.uuid(Requests.string(body, "install_id", 36, 36), "install_id");
    byte[] x = Requests.key32(body, "x25519_public_key");
    byte[] ed = Requests.key32(body, "ed25519_public_key");
    String name = Requests.name(body, "name");
    String os = Requests.optionalString(body, "os", 1, 64).orElse("unknown");
    String pairedBy = Requests.optionalString(body, "paired_by", 0, 128).orElse("");
    UUID id = w.ids().next();
    return w.db().inWorkspace(wid, conn ->
        conn.preparedQuery("SELECT 1 FROM workspaces WHERE id = $1").execute(Tuple.of(wid))
            .compose(rows -> rows.size() == 0 ? Future.failedFuture(ApiException.notFound("workspace"))
                : conn.preparedQuery("INSERT INTO machines (workspace_id, id, install_id, x25519_public_key, ed25519_public_key, name, os, paired_by, created_at) "
                        + "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (workspace_id, install_id) DO NOTHING RETURNING *")
                    .execute(Tuple.from(new Object[] {wid, id, install, Buffer.buffer(x), Buffer.buffer(ed), name, os, pairedBy, w.now()})))
            .compose(rows -> rows.size() == 0
                ? Future.failedFuture(new ApiException(409, "conflict", "this install is already bound to the workspace", "install_id"))
                : Future.succeededFuture(json(rows.iterator().next())))
            .onSuccess(j -> w.audit(ctx, wid, ActorKind.ACTOR_KIND_SERVICE, "pairing", AuditAction.MACHINE_PAIRED, "machine:" + id, Outcome.OUTCOME_SUCCESS)));
  }

  /** The bytes a machine signs to get a session token. */
  public static byte[] machineSessionMessage(UUID workspaceId, UUID machineId, String audience, long timestampMs) {
    return ("umbra-machine-session/v1\n" + workspaceId + "\n" + machineId + "\n" + audience + "\n" + timestampMs)
        .getBytes(StandardCharsets.UTF_8);
  }

  private Future<JsonObject> machineSession(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx, "workspace_id", "machine_id", "audience", "timestamp_ms", "signature");
    UUID wid = Requests.uuid(Requests.string(body, "workspace_id", 36, 36), "workspace_id");
    UUID mid = Requests.uuid(Requests.string(body, "machine_id", 36, 36), "machine_id");
    String audience = Requests.oneOf(body, "audience", null, SessionIssuer.AUDIENCES.stream().sorted().toArray(String[]::new));
    Object ts = body.getValue("timestamp_ms");
    if (!(ts instanceof Number n)) {
      throw ApiException.badRequest("timestamp_ms", "timestamp_ms must be an integer (unix milliseconds)");
    }
    long tsMs = n.longValue();
    String sigHex = Requests.string(body, "signature", 128, 128);
    byte[] sig;
    try {
      sig = HexFormat.of().parseHex(sigHex);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("signature", "signature must be 128 hex digits");
    }
    if (Math.abs(w.clock().millis() - tsMs) > MAX_SKEW.toMillis()) {
      throw new ApiException(401, "stale_signature", "timestamp_ms is too far from the server's clock", "timestamp_ms");
    }
    String ip = "ip:" + ClientAddress.of(ctx);
    ApiException denied = ApiException.unauthorized("machine not found, revoked, or bad signature");
    return w.limiter().<JsonObject>guard("too many failed attempts", e -> e == denied, () -> w.db().inWorkspace(wid, conn ->
            conn.preparedQuery("SELECT ed25519_public_key, revoked_at FROM machines WHERE id = $1").execute(Tuple.of(mid))
                .compose(rows -> {
                  if (rows.size() == 0 || rows.iterator().next().getValue("revoked_at") != null) {
                    return Future.failedFuture(denied);
                  }
                  try {
                    Ed25519PublicKey.fromBytes(rows.iterator().next().getBuffer("ed25519_public_key").getBytes())
                        .verify(machineSessionMessage(wid, mid, audience, tsMs), sig);
                  } catch (CryptoException e) {
                    return Future.failedFuture(denied);
                  }
                  // strictly increasing timestamps per machine: a replayed request updates nothing
                  return conn.preparedQuery("UPDATE machines SET last_seen_at = $2, last_session_ms = $3 "
                          + "WHERE id = $1 AND (last_session_ms IS NULL OR last_session_ms < $3)")
                      .execute(Tuple.of(mid, w.now(), tsMs))
                      .compose(r -> r.rowCount() == 1 ? Future.succeededFuture(r) : Future.failedFuture(denied));
                })
                .map(r -> {
                  SessionIssuer.Issued t = w.issuer().issue(wid, mid.toString(), SubjectKind.MACHINE, Role.MACHINE, audience, SessionIssuer.MintedWith.MACHINE);
                  w.audit(ctx, wid, ActorKind.ACTOR_KIND_MACHINE, mid, AuditAction.SESSION_ISSUED, "audience:" + audience, Outcome.OUTCOME_SUCCESS);
                  return new JsonObject().put("token", t.token()).put("audience", audience).put("expires_at", t.expiresAt().toString());
                })), ip)
        .onFailure(e -> {
          if (e == denied) {
            w.audit(ctx, wid, ActorKind.ACTOR_KIND_MACHINE, mid, AuditAction.SESSION_REFUSED, "machine:" + mid, Outcome.OUTCOME_DENIED);
          }
        });
  }
}
