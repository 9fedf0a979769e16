package dev.umbra.controlplane.workflows;

import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.devices.MachineRequest;
import dev.umbra.controlplane.devices.MachineRequestVerifier;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.runs.RunStore;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.crypto.workflow.WorkflowDefinition;
import dev.umbra.crypto.workflow.WorkflowYaml;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Signed workflows (docs/agents.md, "Workflows"): HTTP only. {@link WorkflowService} decides who
 * may write and checks the signature as a second line, {@link WorkflowStore} holds the SQL; a
 * machine fetches a definition with a request signed by its binding key and reports each run
 * ({@link WorkflowRunReports}).
 */
public final class WorkflowRoutes {
  /** The members a listing and a single workflow share. */
  private static Schema.ObjectBuilder listed() {
    return Schema.object()
        .required("name", Schema.string(1, 64))
        .required("version", Schema.integer(1, CryptoConstants.CANONICAL_JSON_MAX_SAFE_INTEGER))
        .required("signer_device_id", Schema.uuid())
        .required("set_by", Schema.uuid())
        .required("updated_at", Schema.time())
        .required("deleted", Schema.bool());
  }

  static final Schema SUMMARY = Schema.named("WorkflowSummary", listed().build());
  static final Schema WORKFLOW =
      Schema.named(
          "Workflow",
          listed()
              .required(
                  "yaml",
                  Schema.nullable(Schema.string(1, WorkflowYaml.MAX_CHARS))
                      .describe("the definition's text; null once deleted"))
              .required(
                  "signature",
                  Schema.nullable(Schema.hex(64))
                      .describe(
                          "Ed25519 by the signer device over the umbra-workflow/v1 payload built from the parsed text"))
              .build()
              .describe(
                  "clients and daemons verify the signature; the listing values are the control plane's word"));
  static final Schema PUT =
      Schema.object()
          .required("version", Schema.integer(1, CryptoConstants.CANONICAL_JSON_MAX_SAFE_INTEGER))
          .required("yaml", Schema.string(1, WorkflowYaml.MAX_CHARS))
          .required("signature", Schema.hex(64))
          .required("signer_device_id", Schema.uuid())
          .build();

  private final Authenticator auth;
  private final MachineRequestVerifier machines;
  private final WorkflowService workflows;
  private final WorkflowRunReports reports;
  private final WorkflowProposals proposals;

  WorkflowRoutes(
      Authenticator auth,
      MachineRequestVerifier machines,
      WorkflowService workflows,
      WorkflowRunReports reports,
      WorkflowProposals proposals) {
    this.auth = auth;
    this.machines = machines;
    this.workflows = workflows;
    this.reports = reports;
    this.proposals = proposals;
  }

  /** The feature wired by hand with only what it uses. */
  public static WorkflowRoutes wire(
      Authenticator auth,
      Tenancy tenancy,
      AuditTrail audit,
      AuditEmitter machineAudit,
      MachineRequest.Checker machines,
      RunStore runs,
      Ids ids,
      Clock clock) {
    WorkflowStore store = new WorkflowStore();
    MachineRequestVerifier verifier = new MachineRequestVerifier(machines);
    return new WorkflowRoutes(
        auth,
        verifier,
        new WorkflowService(tenancy, store, audit, clock),
        new WorkflowRunReports(
            verifier, machineAudit, new WorkflowRunMerge(clock, runs, store, ids)),
        new WorkflowProposals(auth, tenancy, verifier, store, machineAudit, clock));
  }

  public void register(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.GET,
            ControlPlanePaths.WORKFLOWS,
            "The workspace's workflows (not deleted), by name",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            Schema.list(SUMMARY),
            Handlers.json(200, this::list))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.WORKFLOW,
            "A workflow: its YAML text, version and signature (deleted: a tombstone without text)",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            WORKFLOW,
            Handlers.json(200, this::get))
        .add(
            HttpMethod.PUT,
            ControlPlanePaths.WORKFLOW,
            "Store a workflow's next version (member): signed by one of the caller's trusted devices over the umbra-workflow/v1 payload of the parsed text; needs a workspace keyset",
            Auth.API_TOKEN,
            200,
            PUT,
            WORKFLOW,
            Handlers.json(200, this::put))
        .add(
            HttpMethod.DELETE,
            ControlPlanePaths.WORKFLOW,
            "Delete a workflow (member): its text and signature go, its version stays",
            Auth.API_TOKEN,
            204,
            Schema.NO_BODY,
            Schema.EMPTY,
            Handlers.json(204, this::delete))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.MACHINE_WORKFLOW,
            "A workflow definition for a machine that signs with its binding key (the daemon verifies it against its pinned trust before running it)",
            Auth.MACHINE_SIGNATURE,
            200,
            MachineRequest.schema()
                .required("name", Schema.string(1, 64))
                .build()
                .describe(
                    "signature over \"umbra-machine-workflow/v1\\n<workspace_id>\\n<machine_id>\\n<timestamp_ms>\\n<name>\""),
            WORKFLOW,
            Handlers.json(200, this::machine));
    reports.register(routes);
    proposals.register(routes);
  }

  static JsonObject json(Workflow w) {
    return new JsonObject()
        .put("name", w.name())
        .put("version", w.version())
        .put("signer_device_id", w.signerDeviceId().toString())
        .put("set_by", w.setBy().toString())
        .put("updated_at", w.updatedAt().toString())
        .put("deleted", w.deleted())
        .put("yaml", w.yaml())
        .put("signature", w.signature() == null ? null : HexFormat.of().formatHex(w.signature()));
  }

  private static String name(RoutingContext ctx) {
    String n = ctx.pathParam("workflow_name");
    if (n == null || !WorkflowDefinition.NAME.matcher(n).matches()) {
      throw Refusal.invalid("workflow_name", "a workflow name is [a-z0-9][a-z0-9._-]{0,63}");
    }
    return n;
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return auth.authenticate(ctx, false)
        .compose(p -> workflows.list(Caller.of(ctx, p), wid))
        .map(
            l -> {
              JsonArray items = new JsonArray();
              l.forEach(
                  w -> {
                    JsonObject j = json(w);
                    j.remove("yaml");
                    j.remove("signature");
                    items.add(j);
                  });
              return new JsonObject().put("items", items);
            });
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return auth.authenticate(ctx, false)
        .compose(p -> workflows.get(Caller.of(ctx, p), wid, name(ctx)))
        .map(WorkflowRoutes::json);
  }

  private Future<JsonObject> put(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return auth.authenticate(ctx, true)
        .compose(p -> workflows.put(Caller.of(ctx, p), wid, parsePut(ctx)))
        .map(WorkflowRoutes::json);
  }

  /** The body of a PUT: the text must parse, and name the workflow of the path. */
  private static WorkflowService.Put parsePut(RoutingContext ctx) {
    String name = name(ctx);
    JsonObject body = Requests.body(ctx, "version", "yaml", "signature", "signer_device_id");
    if (!(body.getValue("version") instanceof Number v) || v.longValue() < 1) {
      throw Refusal.invalid("version", "version must be a positive integer");
    }
    if (!(body.getValue("yaml") instanceof String yaml)) {
      throw Refusal.invalid("yaml", "yaml must be the definition's text");
    }
    WorkflowDefinition d;
    try {
      d = WorkflowDefinition.parse(yaml);
    } catch (CryptoException e) {
      throw Refusal.invalid("yaml", e.getMessage());
    }
    if (!d.name().equals(name)) {
      throw Refusal.invalid("yaml", "the definition's name is not the path's");
    }
    String sig = Requests.string(body, "signature", 128, 128);
    byte[] signature;
    try {
      signature = HexFormat.of().parseHex(sig);
    } catch (IllegalArgumentException e) {
      throw Refusal.invalid("signature", "signature must be 128 hex digits");
    }
    UUID signer =
        Requests.uuid(Requests.string(body, "signer_device_id", 36, 36), "signer_device_id");
    return new WorkflowService.Put(yaml, d, v.longValue(), signature, signer);
  }

  private Future<Void> delete(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return auth.authenticate(ctx, true)
        .compose(p -> workflows.delete(Caller.of(ctx, p), wid, name(ctx)));
  }

  private Future<JsonObject> machine(RoutingContext ctx) {
    MachineRequestVerifier.Incoming m = machines.read(ctx, "name");
    String name = Requests.string(m.body(), "name", 1, 64);
    return m.verified(
            (w, mid, ts) -> MachineRequests.workflow(w, mid, ts, name),
            conn -> workflows.forMachine(conn, name))
        .map(WorkflowRoutes::json);
  }
}
