package dev.umbra.controlplane.agents;

import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.devices.MachineRequest;
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
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.auth.FailureLimiter;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.ClientAddress;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.util.HexFormat;
import java.util.UUID;
import java.util.function.Function;

/**
 * Agents' HTTP API (docs/messaging.md, "Agents"): enrolment signed by the machine and the agent's
 * key, admin listing, approval with the verification code, revocation, and agent session tokens.
 */
public final class AgentRoutes {
  private final Authenticator auth;
  private final MachineRequest.Checker machines;
  private final AgentService agents;
  private final Clock clock;

  private AgentRoutes(
      Authenticator auth, MachineRequest.Checker machines, AgentService agents, Clock clock) {
    this.auth = auth;
    this.machines = machines;
    this.agents = agents;
    this.clock = clock;
  }

  public static AgentRoutes wire(
      Authenticator auth,
      Tenancy tenancy,
      AuditEmitter audit,
      AuditTrail trail,
      RevocationNotices revocations,
      MachineRequest.Checker machines,
      SessionIssuer issuer,
      FailureLimiter limiter,
      Ids ids,
      Clock clock) {
    return new AgentRoutes(
        auth,
        machines,
        new AgentService(
            tenancy, new AgentStore(), audit, trail, revocations, issuer, limiter, ids, clock),
        clock);
  }

  static final Schema AGENT =
      Schema.named(
          "Agent",
          Schema.object()
              .required("id", Schema.uuid())
              .required("workspace_id", Schema.uuid())
              .required("machine_id", Schema.uuid().describe("the machine it enrolled from"))
              .required("name", Schema.string(1, Requests.MAX_NAME))
              .required("status", Schema.oneOf(Agent.PENDING, Agent.APPROVED, Agent.REVOKED))
              .required("ed25519_public_key", Schema.hex(32))
              .required("x25519_public_key", Schema.hex(32))
              .required("created_at", Schema.time())
              .required("approved_at", Schema.nullable(Schema.time()))
              .required("revoked_at", Schema.nullable(Schema.time()))
              .build());

  private static final Schema ENROL =
      MachineRequest.schema()
          .required("name", Schema.string(1, Requests.MAX_NAME))
          .required("ed25519_public_key", Schema.hex(32).describe("the agent's identity key"))
          .required("x25519_public_key", Schema.hex(32))
          .required(
              "proof",
              Schema.hex(64).describe("Ed25519 by the agent's key over the same enrolment message"))
          .build();
  private static final Schema SESSION =
      Schema.object()
          .required("workspace_id", Schema.uuid())
          .required("agent_id", Schema.uuid())
          .required("timestamp_ms", Schema.integer(0, Long.MAX_VALUE))
          .required(
              "signature",
              Schema.hex(64)
                  .describe(
                      "Ed25519 by the agent's key over \"umbra-agent-session/v1\\n<workspace_id>\\n<agent_id>\\n<timestamp_ms>\""))
          .build();
  private static final Schema ISSUED =
      Schema.object()
          .required("token", Schema.string().describe("a session token (JWT) for control-plane"))
          .required("expires_at", Schema.time())
          .build();

  public void register(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.POST,
            ControlPlanePaths.AGENT_ENROLMENTS,
            "Enrol an agent from a machine (pending until an admin approves it)",
            Auth.MACHINE_SIGNATURE,
            201,
            ENROL,
            AGENT,
            Handlers.json(201, this::enrol))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.AGENT_SESSIONS,
            "Issue a messaging session token to an approved agent that signs with its key",
            Auth.NONE,
            201,
            SESSION,
            ISSUED,
            Handlers.json(201, this::session))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.AGENTS,
            "List agents",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            Schema.page(AGENT),
            Handlers.json(200, this::list))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.AGENT,
            "Get an agent",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            AGENT,
            Handlers.json(200, this::get))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.AGENT_APPROVAL,
            "Approve a pending agent with its verification code (admin)",
            Auth.API_TOKEN,
            200,
            Schema.object().required("verification_code", Schema.string(1, 64)).build(),
            AGENT,
            Handlers.json(200, this::approve))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.AGENT_REVOCATION,
            "Revoke an agent (admin); its sockets close on every instance",
            Auth.API_TOKEN,
            200,
            Schema.object().build(),
            AGENT,
            Handlers.json(200, this::revoke));
  }

  private Future<JsonObject> enrol(RoutingContext ctx) {
    JsonObject body =
        Requests.body(
            ctx,
            "workspace_id",
            "machine_id",
            "timestamp_ms",
            "signature",
            "name",
            "ed25519_public_key",
            "x25519_public_key",
            "proof");
    MachineRequest mr = MachineRequest.parse(clock, body);
    AgentService.Enrolment e =
        new AgentService.Enrolment(
            Requests.name(body, "name"),
            Requests.key32(body, "ed25519_public_key"),
            Requests.key32(body, "x25519_public_key"),
            hex64(body, "proof"));
    return agents.enrol(machines, ctx, mr, e).map(Agent::toJson);
  }

  private Future<JsonObject> session(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx, "workspace_id", "agent_id", "timestamp_ms", "signature");
    UUID wid = Requests.uuid(Requests.string(body, "workspace_id", 36, 36), "workspace_id");
    UUID aid = Requests.uuid(Requests.string(body, "agent_id", 36, 36), "agent_id");
    MachineRequest.Signed signed = MachineRequest.signed(clock, body);
    return agents
        .session("ip:" + ClientAddress.of(ctx), wid, aid, signed.timestampMs(), signed.signature())
        .map(
            t ->
                new JsonObject()
                    .put("token", t.token())
                    .put("expires_at", t.expiresAt().toString()));
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    Page page = Page.of(ctx);
    return as(ctx, false, c -> agents.page(c, wid, page.after(), page.fetch()))
        .map(list -> page.render(list, Agent::id, Agent::toJson));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "agent_id");
    return as(ctx, false, c -> agents.get(c, wid, id)).map(Agent::toJson);
  }

  private Future<JsonObject> approve(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "agent_id");
    JsonObject body = Requests.body(ctx, "verification_code");
    String code = Requests.string(body, "verification_code", 1, 64);
    return as(ctx, true, c -> agents.approve(c, wid, id, code)).map(Agent::toJson);
  }

  private Future<JsonObject> revoke(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "agent_id");
    Requests.body(ctx);
    return as(ctx, true, c -> agents.revoke(c, wid, id)).map(Agent::toJson);
  }

  private <T> Future<T> as(RoutingContext ctx, boolean write, Function<Caller, Future<T>> work) {
    return auth.authenticate(ctx, write).compose(p -> work.apply(Caller.of(ctx, p)));
  }

  private static byte[] hex64(JsonObject body, String field) {
    try {
      return HexFormat.of().parseHex(Requests.string(body, field, 128, 128));
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(field, field + " must be 128 hex digits");
    }
  }
}
