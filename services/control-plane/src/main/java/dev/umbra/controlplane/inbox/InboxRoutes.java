package dev.umbra.controlplane.inbox;

import dev.umbra.controlplane.devices.MachineRequest;
import dev.umbra.controlplane.devices.MachineRequestVerifier;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.http.Page;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.sharing.WorkAccess;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;

/**
 * The inbox (docs/agents.md, "Inbox"): HTTP only. {@link InboxService} decides, {@link InboxStore}
 * holds the SQL, {@link InboxRules} checks what an item holds.
 */
public final class InboxRoutes {
  /** The longest a decision request waits (a client asks again after it). */
  static final int MAX_WAIT_S = 60;

  private final WorkAccess access;
  private final InboxService inbox;
  private final MachineInbox machines;

  InboxRoutes(WorkAccess access, InboxService inbox, MachineInbox machines) {
    this.access = access;
    this.inbox = inbox;
    this.machines = machines;
  }

  /** The feature wired by hand with only what it uses. */
  public static InboxRoutes wire(
      Vertx vertx,
      Bus bus,
      WorkAccess access,
      MachineRequest.Checker checker,
      AuditEmitter audit,
      Ids ids,
      Clock clock) {
    InboxStore store = new InboxStore();
    InboxService inbox = new InboxService(vertx, bus, access, store, audit, ids, clock);
    return new InboxRoutes(
        access,
        inbox,
        new MachineInbox(
            vertx,
            bus,
            new MachineRequestVerifier(checker),
            checker.db(),
            inbox,
            store,
            audit,
            clock));
  }

  private static final Schema KIND = Schema.oneOf("approve", "choose", "answer");
  static final Schema ITEM =
      Schema.named(
          "InboxItem",
          Schema.object()
              .required("id", Schema.uuid())
              .required(
                  "agent_id",
                  Schema.nullable(Schema.uuid())
                      .describe("the agent that raised it; null when a machine did"))
              .required(
                  "machine_id",
                  Schema.nullable(Schema.uuid())
                      .describe(
                          "the machine whose agent session's runtime raised it, through the daemon"))
              .required(
                  "session_id",
                  Schema.nullable(Schema.string(1, 64))
                      .describe("that agent session's id on the machine"))
              .required("kind", KIND)
              .required("question", Schema.string(1, InboxRules.MAX_TEXT))
              .required("options", Schema.array(Schema.string(1, InboxRules.MAX_OPTION)))
              .required("default", Schema.string(1, InboxRules.MAX_TEXT))
              .required("deadline", Schema.time())
              .required("status", Schema.oneOf("open", "decided", "expired"))
              .required(
                  "answer",
                  Schema.nullable(Schema.string())
                      .describe("the decision; the default once expired; null while open"))
              .required("decided_by", Schema.nullable(Schema.uuid()))
              .required("decided_at", Schema.nullable(Schema.time()))
              .required("created_at", Schema.time())
              .optional("team_ids", Schema.array(Schema.uuid()))
              .build());

  public void register(ApiRoutes routes) {
    machines.register(routes);
    routes
        .add(
            HttpMethod.POST,
            ControlPlanePaths.INBOX,
            "Raise an inbox item (an agent): a question to approve, choose or answer, with a deadline and a default",
            Auth.API_OR_SESSION_TOKEN,
            201,
            Schema.object()
                .required("kind", KIND)
                .required("question", Schema.string(1, InboxRules.MAX_TEXT))
                .optional(
                    "options",
                    Schema.array(
                        Schema.string(1, InboxRules.MAX_OPTION), 0, InboxRules.MAX_OPTIONS))
                .required(
                    "default",
                    Schema.string(1, InboxRules.MAX_TEXT)
                        .describe("approve|deny, one of the options, or text"))
                .required(
                    "deadline_seconds",
                    Schema.integer(InboxRules.MIN_DEADLINE_S, InboxRules.MAX_DEADLINE_S))
                .optional("team_ids", Schema.array(Schema.uuid(), 0, InboxRules.MAX_TEAMS))
                .build(),
            ITEM,
            Handlers.json(201, this::raise))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.INBOX,
            "The inbox items the caller may see (?status=open|decided|expired)",
            Auth.API_OR_SESSION_TOKEN,
            200,
            Schema.NO_BODY,
            Schema.page(ITEM),
            Handlers.json(200, this::list))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.INBOX_ITEM,
            "An inbox item",
            Auth.API_OR_SESSION_TOKEN,
            200,
            Schema.NO_BODY,
            ITEM,
            Handlers.json(200, this::get))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.INBOX_DECISION,
            "Wait for an inbox item's decision (?wait_seconds=0..60, long poll): the item once decided or expired, else still open when the wait ends",
            Auth.API_OR_SESSION_TOKEN,
            200,
            Schema.NO_BODY,
            ITEM,
            Handlers.json(200, this::await))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.INBOX_DECISION,
            "Decide an open inbox item (a member with the member role who may see it)",
            Auth.API_OR_SESSION_TOKEN,
            200,
            Schema.object().required("answer", Schema.string(1, InboxRules.MAX_TEXT)).build(),
            ITEM,
            Handlers.json(200, this::decide));
  }

  private Future<JsonObject> raise(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    InboxItem.Question q =
        InboxRules.question(
            Requests.body(
                ctx, "kind", "question", "options", "default", "deadline_seconds", "team_ids"));
    return inbox.raise(access.of(ctx), wid, q).map(InboxRoutes::json);
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    Page page = Page.of(ctx);
    String status = ctx.request().getParam("status");
    if (status != null && !status.matches("open|decided|expired")) {
      throw ApiException.badRequest("status", "status must be open, decided or expired");
    }
    return inbox
        .page(access.of(ctx), wid, status, page.after(), page.fetch())
        .map(list -> page.render(list, InboxItem::id, InboxRoutes::json));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "item_id");
    return inbox.get(access.of(ctx), wid, id).map(InboxRoutes::json);
  }

  private Future<JsonObject> await(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "item_id");
    String w = ctx.request().getParam("wait_seconds");
    int wait;
    try {
      wait = w == null ? 0 : Integer.parseInt(w);
    } catch (NumberFormatException e) {
      wait = -1;
    }
    if (wait < 0 || wait > MAX_WAIT_S) {
      throw ApiException.badRequest(
          "wait_seconds", "wait_seconds must be an integer from 0 to " + MAX_WAIT_S);
    }
    return inbox.await(access.of(ctx), wid, id, Duration.ofSeconds(wait)).map(InboxRoutes::json);
  }

  private Future<JsonObject> decide(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "item_id");
    Object a = Requests.body(ctx, "answer").getValue("answer");
    if (!(a instanceof String answer) || answer.isEmpty()) {
      throw ApiException.badRequest("answer", "answer is required");
    }
    return inbox.decide(access.of(ctx), wid, id, answer).map(InboxRoutes::json);
  }

  static JsonObject json(InboxItem.Shared s) {
    JsonArray teams = new JsonArray();
    s.teamIds().forEach(t -> teams.add(t.toString()));
    return json(s.item()).put("team_ids", teams);
  }

  static JsonObject json(InboxItem i) {
    return new JsonObject()
        .put("id", i.id().toString())
        .put("agent_id", i.agentId() == null ? null : i.agentId().toString())
        .put("machine_id", i.machineId() == null ? null : i.machineId().toString())
        .put("session_id", i.sessionId())
        .put("kind", i.kind())
        .put("question", i.question())
        .put("options", new JsonArray(i.options()))
        .put("default", i.defaultAnswer())
        .put("deadline", i.deadline().toString())
        .put("status", i.status())
        .put("answer", i.answer())
        .put("decided_by", i.decidedBy() == null ? null : i.decidedBy().toString())
        .put("decided_at", i.decidedAt() == null ? null : i.decidedAt().toString())
        .put("created_at", i.createdAt().toString());
  }
}
