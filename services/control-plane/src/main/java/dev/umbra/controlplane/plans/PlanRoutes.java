package dev.umbra.controlplane.plans;

import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.http.Page;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.sharing.Texts;
import dev.umbra.controlplane.sharing.WorkAccess;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.util.UUID;

/**
 * Plans (docs/agents.md, "Plans"): HTTP only. {@link PlanService} decides, {@link PlanStore} holds
 * the SQL, {@code ShareRoutes} shares a plan with teams.
 */
public final class PlanRoutes {
  static final int MAX_TITLE = 200;
  static final int MAX_BODY = 65_536;
  static final int MAX_STEPS = 100;
  static final int MAX_STEP = 500;
  static final int MAX_COMMENT = 8192;
  static final int MAX_TEAMS = 20;

  private final WorkAccess access;
  private final PlanService plans;

  PlanRoutes(WorkAccess access, PlanService plans) {
    this.access = access;
    this.plans = plans;
  }

  /** The feature wired by hand with only what it uses. */
  public static PlanRoutes wire(WorkAccess access, AuditEmitter audit, Ids ids, Clock clock) {
    return new PlanRoutes(access, new PlanService(access, new PlanStore(), audit, ids, clock));
  }

  private static final Schema AUTHOR_KIND = Schema.oneOf("member", "agent");
  private static final Schema SUMMARY =
      Schema.named(
          "Plan",
          Schema.object()
              .required("id", Schema.uuid())
              .required("title", Schema.string(1, MAX_TITLE))
              .required("version", Schema.integer(1, Integer.MAX_VALUE))
              .required("status", Schema.oneOf("in_review", "approved", "changes_requested"))
              .required("author_kind", AUTHOR_KIND)
              .required("author_id", Schema.uuid())
              .required("created_at", Schema.time())
              .required("updated_at", Schema.time())
              .build());
  private static final Schema FULL =
      Schema.object()
          .required("plan", SUMMARY)
          .required(
              "shown",
              Schema.object()
                  .required("version", Schema.integer(1, Integer.MAX_VALUE))
                  .required("title", Schema.string(1, MAX_TITLE))
                  .required("body", Schema.string(0, MAX_BODY).describe("markdown"))
                  .required("steps", Schema.array(Schema.string(1, MAX_STEP)))
                  .required("author_kind", AUTHOR_KIND)
                  .required("author_id", Schema.uuid())
                  .required("created_at", Schema.time())
                  .build())
          .required(
              "comments",
              Schema.array(
                  Schema.object()
                      .required("id", Schema.uuid())
                      .required("version", Schema.integer(1, Integer.MAX_VALUE))
                      .required("author_kind", AUTHOR_KIND)
                      .required("author_id", Schema.uuid())
                      .required("body", Schema.string(1, MAX_COMMENT))
                      .required("created_at", Schema.time())
                      .build()))
          .required(
              "verdicts",
              Schema.array(
                  Schema.object()
                      .required("id", Schema.uuid())
                      .required("version", Schema.integer(1, Integer.MAX_VALUE))
                      .required("account_id", Schema.uuid())
                      .required("verdict", Schema.oneOf("approve", "request_changes"))
                      .required("note", Schema.nullable(Schema.string()))
                      .required("created_at", Schema.time())
                      .build()))
          .required("team_ids", Schema.array(Schema.uuid()))
          .build();
  private static final Schema DRAFT =
      Schema.object()
          .required("title", Schema.string(1, MAX_TITLE))
          .required("body", Schema.string(0, MAX_BODY).describe("markdown; new lines allowed"))
          .optional("steps", Schema.array(Schema.string(1, MAX_STEP), 0, MAX_STEPS))
          .optional(
              "team_ids",
              Schema.array(Schema.uuid(), 0, MAX_TEAMS)
                  .describe("teams of the workspace to share the plan with"))
          .build();

  public void register(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.POST,
            ControlPlanePaths.PLANS,
            "Publish a plan for review (an agent, or a member with the member role)",
            Auth.API_OR_SESSION_TOKEN,
            201,
            DRAFT,
            FULL,
            Handlers.json(201, this::publish))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.PLANS,
            "The plans the caller may see (admins: all; others: their own and those shared with their teams)",
            Auth.API_OR_SESSION_TOKEN,
            200,
            Schema.NO_BODY,
            Schema.page(SUMMARY),
            Handlers.json(200, this::list))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.PLAN,
            "A plan with one version (?version=N, default the current), its comments, verdicts and teams",
            Auth.API_OR_SESSION_TOKEN,
            200,
            Schema.NO_BODY,
            FULL,
            Handlers.json(200, this::get))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.PLAN_VERSIONS,
            "Publish a new version of a plan (its author or an admin); the plan is back in review",
            Auth.API_OR_SESSION_TOKEN,
            201,
            DRAFT,
            FULL,
            Handlers.json(201, this::revise))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.PLAN_COMMENTS,
            "Comment on a plan's current version",
            Auth.API_OR_SESSION_TOKEN,
            201,
            Schema.object().required("body", Schema.string(1, MAX_COMMENT)).build(),
            FULL.describe("the plan after the comment"),
            Handlers.json(201, this::comment))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.PLAN_VERDICTS,
            "Approve or request changes to a plan's current version (a member, not an agent)",
            Auth.API_OR_SESSION_TOKEN,
            201,
            Schema.object()
                .required("verdict", Schema.oneOf("approve", "request_changes"))
                .optional("note", Schema.string(1, MAX_COMMENT))
                .build(),
            FULL,
            Handlers.json(201, this::verdict));
  }

  static Plan.Draft draft(JsonObject body) {
    return new Plan.Draft(
        Requests.string(body, "title", 1, MAX_TITLE),
        Texts.multiline(body, "body", 0, MAX_BODY)
            .orElseThrow(() -> ApiException.badRequest("body", "body is required")),
        Texts.strings(body, "steps", MAX_STEPS, MAX_STEP),
        Texts.uuids(body, "team_ids", MAX_TEAMS));
  }

  private Future<JsonObject> publish(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    Plan.Draft d = draft(Requests.body(ctx, "title", "body", "steps", "team_ids"));
    return plans.publish(access.of(ctx), wid, d).map(PlanRoutes::json);
  }

  private Future<JsonObject> revise(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID pid = Requests.uuidParam(ctx, "plan_id");
    Plan.Draft d = draft(Requests.body(ctx, "title", "body", "steps", "team_ids"));
    return plans.revise(access.of(ctx), wid, pid, d).map(PlanRoutes::json);
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    Page page = Page.of(ctx);
    return plans
        .page(access.of(ctx), page.after(), page.fetch())
        .map(list -> page.render(list, Plan::id, PlanRoutes::json));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID pid = Requests.uuidParam(ctx, "plan_id");
    String v = ctx.request().getParam("version");
    int version;
    try {
      version = v == null ? 0 : Integer.parseInt(v);
    } catch (NumberFormatException e) {
      version = -1;
    }
    if (version < 0) {
      throw ApiException.badRequest("version", "version must be a positive integer");
    }
    return plans.get(access.of(ctx), pid, version).map(PlanRoutes::json);
  }

  private Future<JsonObject> comment(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID pid = Requests.uuidParam(ctx, "plan_id");
    String body =
        Texts.multiline(Requests.body(ctx, "body"), "body", 1, MAX_COMMENT)
            .orElseThrow(() -> ApiException.badRequest("body", "body is required"));
    return plans
        .comment(access.of(ctx), wid, pid, body)
        .compose(c -> plans.get(access.of(ctx), pid, 0))
        .map(PlanRoutes::json);
  }

  private Future<JsonObject> verdict(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID pid = Requests.uuidParam(ctx, "plan_id");
    JsonObject body = Requests.body(ctx, "verdict", "note");
    String verdict = Requests.oneOf(body, "verdict", null, "approve", "request_changes");
    String note = Texts.multiline(body, "note", 1, MAX_COMMENT).orElse(null);
    return plans.verdict(access.of(ctx), wid, pid, verdict, note).map(PlanRoutes::json);
  }

  static JsonObject json(Plan p) {
    return new JsonObject()
        .put("id", p.id().toString())
        .put("title", p.title())
        .put("version", p.version())
        .put("status", p.status())
        .put("author_kind", p.authorKind())
        .put("author_id", p.authorId().toString())
        .put("created_at", p.createdAt().toString())
        .put("updated_at", p.updatedAt().toString());
  }

  static JsonObject json(Plan.Full f) {
    Plan.Version v = f.shown();
    JsonArray comments = new JsonArray();
    f.comments()
        .forEach(
            c ->
                comments.add(
                    new JsonObject()
                        .put("id", c.id().toString())
                        .put("version", c.version())
                        .put("author_kind", c.authorKind())
                        .put("author_id", c.authorId().toString())
                        .put("body", c.body())
                        .put("created_at", c.createdAt().toString())));
    JsonArray verdicts = new JsonArray();
    f.verdicts()
        .forEach(
            x ->
                verdicts.add(
                    new JsonObject()
                        .put("id", x.id().toString())
                        .put("version", x.version())
                        .put("account_id", x.accountId().toString())
                        .put("verdict", x.verdict())
                        .put("note", x.note())
                        .put("created_at", x.createdAt().toString())));
    JsonArray teams = new JsonArray();
    f.teamIds().forEach(t -> teams.add(t.toString()));
    return new JsonObject()
        .put("plan", json(f.plan()))
        .put(
            "shown",
            new JsonObject()
                .put("version", v.version())
                .put("title", v.title())
                .put("body", v.body())
                .put("steps", new JsonArray(v.steps()))
                .put("author_kind", v.authorKind())
                .put("author_id", v.authorId().toString())
                .put("created_at", v.createdAt().toString()))
        .put("comments", comments)
        .put("verdicts", verdicts)
        .put("team_ids", teams);
  }
}
