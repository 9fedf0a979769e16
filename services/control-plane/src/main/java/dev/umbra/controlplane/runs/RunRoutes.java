package dev.umbra.controlplane.runs;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Page;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.sharing.Actor;
import dev.umbra.controlplane.sharing.ShareKind;
import dev.umbra.controlplane.sharing.WorkAccess;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.SqlConnection;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.UUID;

/**
 * Run records (docs/agents.md, "Run records"): members read them; the daemon writes them through
 * its signed {@code POST /v1/machine-audit} report ({@code MachineAuditRoutes}). An admin sees
 * every run; another member the runs of the machines shared with one of their teams; an agent none.
 */
public final class RunRoutes {
  private final WorkAccess access;
  private final RunStore store;

  public RunRoutes(WorkAccess access, RunStore store) {
    this.access = access;
    this.store = store;
  }

  private static final Schema STEP =
      Schema.named(
          "WorkflowStepResult",
          Schema.object()
              .required("id", Schema.string(1, 32))
              .optional(
                  "machine_id", Schema.uuid().describe("the machine that ran and reported it"))
              .required(
                  "status",
                  Schema.oneOf(
                      "succeeded",
                      "failed",
                      "timed_out",
                      "not_started",
                      "skipped",
                      "other_machine"))
              .required("exit_status", Schema.integer(-1, 255))
              .required("duration_ms", Schema.integer(0, Long.MAX_VALUE))
              .required("bytes_in", Schema.integer(0, Long.MAX_VALUE))
              .required("bytes_out", Schema.integer(0, Long.MAX_VALUE))
              .build());
  private static final Schema WORKFLOW =
      Schema.object()
          .required("name", Schema.string(1, 64))
          .required("version", Schema.integer(1, Long.MAX_VALUE))
          .required("steps", Schema.array(STEP, 0, 50))
          .optional(
              "run_id",
              Schema.string(26, 26)
                  .describe("the run's id: every machine's report of the run carries it"))
          .optional(
              "reports",
              Schema.array(
                      Schema.object()
                          .required("machine_id", Schema.uuid())
                          .required("event_id", Schema.string(26, 26))
                          .required("outcome", Schema.oneOf("success", "failure", "refused"))
                          .required("reason", Schema.string(0, 32))
                          .build(),
                      0,
                      50)
                  .describe("each machine's report merged into the run, in order"))
          .build()
          .describe("of a workflow run (kind workflow): the definition and each step's result");

  private static final Schema RUN =
      Schema.named(
          "RunRecord",
          Schema.object()
              .required("id", Schema.uuid())
              .required("machine_id", Schema.uuid())
              .required("kind", Schema.oneOf("command", "agent_session", "workflow"))
              .optional(
                  "runtime",
                  Schema.string(1, 32).describe("an agent session's configured runtime id"))
              .required("channel", Schema.string(1, 16).describe("the relay channel, hex"))
              .required("outcome", Schema.oneOf("success", "failure"))
              .required("reason", Schema.string(0, 32))
              .required("exit_status", Schema.integer(-1, 255))
              .required("started_at", Schema.time())
              .required("ended_at", Schema.time())
              .required("duration_ms", Schema.integer(0, Long.MAX_VALUE))
              .required("bytes_in", Schema.integer(0, Long.MAX_VALUE).describe("from the client"))
              .required("bytes_out", Schema.integer(0, Long.MAX_VALUE).describe("to the client"))
              .optional("workflow", WORKFLOW)
              .build()
              .describe("numbers and ids only: never a command line, output or transcript"));

  public void register(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.GET,
            ControlPlanePaths.RUNS,
            "The run records the caller may see (?machine_id= for one machine)",
            Auth.API_OR_SESSION_TOKEN,
            200,
            Schema.NO_BODY,
            Schema.page(RUN),
            Handlers.json(200, this::list))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.RUN,
            "A run record",
            Auth.API_OR_SESSION_TOKEN,
            200,
            Schema.NO_BODY,
            RUN,
            Handlers.json(200, this::get));
  }

  private static Future<Void> memberOnly(Actor actor) {
    return actor.isAgent()
        ? Future.failedFuture(WorkAccess.refused("run records are for members"))
        : Future.succeededFuture();
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    Page page = Page.of(ctx);
    String m = ctx.request().getParam("machine_id");
    UUID machine = m == null ? null : Requests.uuid(m, "machine_id");
    return access
        .of(ctx)
        .run(
            false,
            (conn, actor) ->
                memberOnly(actor)
                    .compose(
                        v ->
                            store.page(
                                conn,
                                actor.isAdmin(),
                                actor.memberOrNobody(),
                                machine,
                                page.after(),
                                page.fetch())))
        .map(list -> page.render(list, RunRecord::id, RunRoutes::json));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID id = Requests.uuidParam(ctx, "run_id");
    return access
        .of(ctx)
        .run(
            false,
            (conn, actor) ->
                memberOnly(actor)
                    .compose(v -> store.get(conn, id))
                    .compose(
                        r ->
                            r == null
                                ? Future.failedFuture(Refusal.notFound("run"))
                                : maySeeEveryMachine(conn, actor, r)
                                    .compose(
                                        seen ->
                                            seen
                                                ? Future.succeededFuture(r)
                                                : Future.failedFuture(Refusal.notFound("run")))))
        .map(RunRoutes::json);
  }

  /**
   * A run across machines shows every machine's steps: a member sees it only when each machine that
   * reported to it is shared with one of its teams (an admin always).
   */
  private Future<Boolean> maySeeEveryMachine(SqlConnection conn, Actor actor, RunRecord r) {
    Set<UUID> machines = new LinkedHashSet<>();
    machines.add(r.machineId());
    if (r.workflow() != null && r.workflow().reports() != null) {
      for (Object o : r.workflow().reports()) {
        machines.add(UUID.fromString(((JsonObject) o).getString("machine_id")));
      }
    }
    Future<Boolean> all = Future.succeededFuture(true);
    for (UUID m : machines) {
      all =
          all.compose(
              ok ->
                  ok
                      ? access.maySee(conn, actor, ShareKind.MACHINE, m, false)
                      : Future.succeededFuture(false));
    }
    return all;
  }

  static JsonObject json(RunRecord r) {
    JsonObject j = command(r);
    if (r.workflow() != null) {
      j.put(
          "workflow",
          new JsonObject()
              .put("name", r.workflow().name())
              .put("version", r.workflow().version())
              .put("steps", r.workflow().steps()));
      if (r.workflow().runId() != null) {
        j.getJsonObject("workflow")
            .put("run_id", r.workflow().runId())
            .put("reports", r.workflow().reports());
      }
    }
    return r.runtime() == null ? j : j.put("runtime", r.runtime());
  }

  private static JsonObject command(RunRecord r) {
    return new JsonObject()
        .put("id", r.id().toString())
        .put("machine_id", r.machineId().toString())
        .put("kind", r.kind())
        .put("channel", r.channel())
        .put("outcome", r.outcome())
        .put("reason", r.reason())
        .put("exit_status", r.exitStatus())
        .put("started_at", r.startedAt().toString())
        .put("ended_at", r.endedAt().toString())
        .put("duration_ms", r.durationMs())
        .put("bytes_in", r.bytesIn())
        .put("bytes_out", r.bytesOut());
  }
}
