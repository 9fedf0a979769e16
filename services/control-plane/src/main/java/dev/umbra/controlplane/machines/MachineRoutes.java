package dev.umbra.controlplane.machines;

import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.http.Page;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.notify.RevocationNotices;
import dev.umbra.controlplane.sessions.SessionIssuer;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.kit.auth.FailureLimiter;
import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.ClientAddress;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Machines (daemon bindings): members list them, admins rename and revoke them; the pairing service
 * creates them through the internal endpoint; a daemon gets session tokens by signing with its
 * binding's Ed25519 key. HTTP only: {@link MachineService} decides, {@link MachineStore} holds the
 * SQL.
 */
public final class MachineRoutes {
  /**
   * How far a machine's signed timestamp may be from the server's clock; within it, each machine's
   * timestamps must also increase strictly, so a captured request cannot be replayed.
   */
  public static final Duration MAX_SKEW = dev.umbra.controlplane.devices.MachineRequest.MAX_SKEW;

  private final Authenticator auth;
  private final InternalCredential internal;
  private final Clock clock;
  private final MachineService machines;

  MachineRoutes(
      Authenticator auth, InternalCredential internal, Clock clock, MachineService machines) {
    this.auth = auth;
    this.internal = internal;
    this.clock = clock;
    this.machines = machines;
  }

  /** The feature wired by hand with only what it uses. */
  public static MachineRoutes wire(
      Authenticator auth,
      InternalCredential internal,
      Database db,
      Tenancy tenancy,
      FailureLimiter limiter,
      SessionIssuer issuer,
      AuditTrail audit,
      RevocationNotices revocations,
      Ids ids,
      Clock clock) {
    return new MachineRoutes(
        auth,
        internal,
        clock,
        new MachineService(
            db, tenancy, new MachineStore(), limiter, issuer, audit, revocations, ids, clock));
  }

  static final Schema MACHINE =
      Schema.named(
          "Machine",
          Schema.object()
              .required("id", Schema.uuid())
              .required("workspace_id", Schema.uuid())
              .required("install_id", Schema.uuid())
              .required("name", Schema.string())
              .required("os", Schema.string())
              .required("x25519_public_key", Schema.hex(32))
              .required(
                  "ed25519_public_key",
                  Schema.hex(32).describe("the binding key; signs machine requests"))
              .required("created_at", Schema.time())
              .required("last_seen_at", Schema.nullable(Schema.time()))
              .required("revoked_at", Schema.nullable(Schema.time()))
              .required("status", Schema.oneOf("active", "revoked"))
              .build());
  private static final Schema CREATE =
      Schema.object()
          .required("install_id", Schema.uuid())
          .required("x25519_public_key", Schema.hex(32))
          .required("ed25519_public_key", Schema.hex(32))
          .required("name", Schema.string(1, Requests.MAX_NAME))
          .optional("os", Schema.string(1, 64).describe("default unknown"))
          .optional("paired_by", Schema.string(0, 128))
          .build();
  private static final Schema MACHINE_SESSION_REQUEST =
      dev.umbra.controlplane.devices.MachineRequest.schema()
          .required(
              "audience",
              Schema.oneOf(SessionIssuer.AUDIENCES.stream().sorted().toArray(String[]::new)))
          .build()
          .describe(
              "signature over \"umbra-machine-session/v1\\n<workspace_id>\\n<machine_id>\\n<audience>\\n<timestamp_ms>\"; "
                  + "timestamp_ms strictly increasing per machine");
  private static final Schema MACHINE_SESSION =
      Schema.object()
          .required("token", Schema.string())
          .required("audience", Schema.string())
          .required("expires_at", Schema.time())
          .build();

  public void register(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.GET,
            ControlPlanePaths.MACHINES,
            "List machines",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            Schema.page(MACHINE),
            Handlers.json(200, this::list))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.MACHINE,
            "Get a machine",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            MACHINE,
            Handlers.json(200, this::get))
        .add(
            HttpMethod.PATCH,
            ControlPlanePaths.MACHINE,
            "Rename a machine (admin)",
            Auth.API_TOKEN,
            200,
            Schema.object().required("name", Schema.string(1, Requests.MAX_NAME)).build(),
            MACHINE,
            Handlers.json(200, this::rename))
        .add(
            HttpMethod.DELETE,
            ControlPlanePaths.MACHINE,
            "Revoke a machine (admin)",
            Auth.API_TOKEN,
            204,
            Schema.NO_BODY,
            Schema.EMPTY,
            Handlers.json(204, this::revoke))
        .add(
            HttpMethod.POST,
            "/internal/v1/workspaces/{workspace_id}/machines",
            "Create a machine binding (pairing service only)",
            Auth.INTERNAL,
            201,
            CREATE,
            MACHINE,
            Handlers.json(201, this::createInternal))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.MACHINE_SESSIONS,
            "Issue a session token to a machine that signs with its binding key",
            Auth.MACHINE_SIGNATURE,
            201,
            MACHINE_SESSION_REQUEST,
            MACHINE_SESSION,
            Handlers.json(201, this::machineSession));
  }

  static JsonObject json(Machine m) {
    return new JsonObject()
        .put("id", m.id().toString())
        .put("workspace_id", m.workspaceId().toString())
        .put("install_id", m.installId().toString())
        .put("name", m.name())
        .put("os", m.os())
        .put("x25519_public_key", HexFormat.of().formatHex(m.x25519PublicKey()))
        .put("ed25519_public_key", HexFormat.of().formatHex(m.ed25519PublicKey()))
        .put("created_at", m.createdAt().toString())
        .put("last_seen_at", str(m.lastSeenAt()))
        .put("revoked_at", str(m.revokedAt()))
        .put("status", m.revokedAt() == null ? "active" : "revoked");
  }

  private static String str(OffsetDateTime t) {
    return t == null ? null : t.toString();
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    Page page = Page.of(ctx);
    return auth.as(ctx, false, c -> machines.page(c, wid, page.after(), page.fetch()))
        .map(list -> page.render(list, Machine::id, MachineRoutes::json));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID mid = Requests.uuidParam(ctx, "machine_id");
    return auth.as(ctx, false, c -> machines.get(c, wid, mid)).map(MachineRoutes::json);
  }

  private Future<JsonObject> rename(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID mid = Requests.uuidParam(ctx, "machine_id");
    String name = Requests.name(Requests.body(ctx, "name"), "name");
    return auth.as(ctx, true, c -> machines.rename(c, wid, mid, name)).map(MachineRoutes::json);
  }

  private Future<Void> revoke(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID mid = Requests.uuidParam(ctx, "machine_id");
    return auth.as(ctx, true, c -> machines.revoke(c, wid, mid));
  }

  private Future<JsonObject> createInternal(RoutingContext ctx) {
    if (!internal.admits(ctx.request())) {
      return Future.failedFuture(ApiException.unauthorized("internal credential required"));
    }
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    JsonObject body =
        Requests.body(
            ctx,
            "install_id",
            "x25519_public_key",
            "ed25519_public_key",
            "name",
            "os",
            "paired_by");
    UUID install = Requests.uuid(Requests.string(body, "install_id", 36, 36), "install_id");
    byte[] x = Requests.key32(body, "x25519_public_key");
    byte[] ed = Requests.key32(body, "ed25519_public_key");
    String name = Requests.name(body, "name");
    String os = Requests.optionalString(body, "os", 1, 64).orElse("unknown");
    String pairedBy = Requests.optionalString(body, "paired_by", 0, 128).orElse("");
    return machines
        .bind(
            ClientAddress.forAudit(ctx),
            wid,
            new Machine.Binding(install, x, ed, name, os, pairedBy))
        .map(MachineRoutes::json);
  }

  /** The bytes a machine signs to get a session token. */
  public static byte[] machineSessionMessage(
      UUID workspaceId, UUID machineId, String audience, long timestampMs) {
    return MachineRequests.session(workspaceId, machineId, audience, timestampMs);
  }

  private Future<JsonObject> machineSession(RoutingContext ctx) {
    JsonObject body =
        Requests.body(ctx, "workspace_id", "machine_id", "audience", "timestamp_ms", "signature");
    UUID wid = Requests.uuid(Requests.string(body, "workspace_id", 36, 36), "workspace_id");
    UUID mid = Requests.uuid(Requests.string(body, "machine_id", 36, 36), "machine_id");
    String audience =
        Requests.oneOf(
            body,
            "audience",
            null,
            SessionIssuer.AUDIENCES.stream().sorted().toArray(String[]::new));
    Object ts = body.getValue("timestamp_ms");
    if (!(ts instanceof Number n)) {
      throw ApiException.badRequest(
          "timestamp_ms", "timestamp_ms must be an integer (unix milliseconds)");
    }
    long tsMs = n.longValue();
    String sigHex = Requests.string(body, "signature", 128, 128);
    byte[] sig;
    try {
      sig = HexFormat.of().parseHex(sigHex);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("signature", "signature must be 128 hex digits");
    }
    if (Math.abs(clock.millis() - tsMs) > MAX_SKEW.toMillis()) {
      throw new ApiException(
          401,
          "stale_signature",
          "timestamp_ms is too far from the server's clock",
          "timestamp_ms");
    }
    MachineService.SessionRequest r =
        new MachineService.SessionRequest(
            wid, mid, audience, tsMs, sig, machineSessionMessage(wid, mid, audience, tsMs));
    return machines
        .machineSession("ip:" + ClientAddress.of(ctx), ClientAddress.forAudit(ctx), r)
        .map(
            t ->
                new JsonObject()
                    .put("token", t.token())
                    .put("audience", audience)
                    .put("expires_at", t.expiresAt().toString()));
  }
}
