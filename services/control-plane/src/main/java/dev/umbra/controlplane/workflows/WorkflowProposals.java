package dev.umbra.controlplane.workflows;

import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.db.Rows;
import dev.umbra.controlplane.devices.MachineRequest;
import dev.umbra.controlplane.devices.MachineRequestVerifier;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.crypto.workflow.WorkflowDefinition;
import dev.umbra.crypto.workflow.WorkflowYaml;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

/**
 * Workflows mirrored to repository files by daemons (docs/agents.md, "Mirroring to repository
 * files"). A daemon lists the signed definitions to write them to files ({@code POST
 * /v1/machine-workflows}), and proposes a file edited on its machine as a revision ({@code POST
 * /v1/machine-workflow-proposals}), flagged {@code conflict} when the platform's version changed
 * too since its last sync. A proposal is text only — never runnable: a trusted device signs it as
 * the next version ({@code umbra workflows sign}), which clears the name's proposals. Members read
 * them with {@code GET .../workflow-proposals} (viewers and read tokens too).
 */
final class WorkflowProposals {
  static final int MAX_LIST = 500;

  static final Schema PROPOSAL =
      Schema.named(
          "WorkflowProposal",
          Schema.object()
              .required("name", Schema.string(1, 64))
              .required("machine_id", Schema.uuid())
              .required(
                  "base_version",
                  Schema.integer(0, CryptoConstants.CANONICAL_JSON_MAX_SAFE_INTEGER)
                      .describe("the stored version the file was edited from (0: none)"))
              .required(
                  "conflict",
                  Schema.bool()
                      .describe(
                          "the stored version changed too since the machine's last sync: nothing was overwritten"))
              .required("yaml", Schema.string(1, WorkflowYaml.MAX_CHARS))
              .required("updated_at", Schema.time())
              .build()
              .describe("an unsigned revision from a repository file: not runnable until signed"));

  private final Authenticator auth;
  private final Tenancy tenancy;
  private final MachineRequestVerifier machines;
  private final WorkflowStore store;
  private final AuditEmitter audit;
  private final Clock clock;

  WorkflowProposals(
      Authenticator auth,
      Tenancy tenancy,
      MachineRequestVerifier machines,
      WorkflowStore store,
      AuditEmitter audit,
      Clock clock) {
    this.auth = auth;
    this.tenancy = tenancy;
    this.machines = machines;
    this.store = store;
    this.audit = audit;
    this.clock = clock;
  }

  void register(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.GET,
            ControlPlanePaths.WORKFLOW_PROPOSALS,
            "Revisions proposed from repository files on machines, and conflicts they reported (viewer)",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            Schema.list(PROPOSAL),
            Handlers.json(200, this::list))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.MACHINE_WORKFLOWS,
            "The workspace's workflows with their text and signature, for a machine that mirrors them to repository files (it verifies each before writing it)",
            Auth.MACHINE_SIGNATURE,
            200,
            MachineRequest.schema()
                .build()
                .describe(
                    "signature over \"umbra-machine-workflows/v1\\n<workspace_id>\\n<machine_id>\\n<timestamp_ms>\""),
            Schema.list(WorkflowRoutes.WORKFLOW),
            Handlers.json(200, this::forMachine))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.MACHINE_WORKFLOW_PROPOSALS,
            "A machine proposes a revision edited in a repository file, or reports a conflict (never runnable: unsigned)",
            Auth.MACHINE_SIGNATURE,
            202,
            MachineRequest.schema()
                .required("name", Schema.string(1, 64))
                .required(
                    "base_version",
                    Schema.integer(0, CryptoConstants.CANONICAL_JSON_MAX_SAFE_INTEGER))
                .required("conflict", Schema.bool())
                .required("yaml", Schema.string(1, WorkflowYaml.MAX_CHARS))
                .build()
                .describe(
                    "signature over \"umbra-machine-workflow-proposal/v1\\n<workspace_id>\\n<machine_id>\\n<timestamp_ms>\\n<name>\\n<base_version>\\n<conflict>\\n<yaml>\""),
            Schema.object().required("name", Schema.string(1, 64)).build(),
            Handlers.json(202, this::propose));
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return auth.authenticate(ctx, false)
        .compose(
            p ->
                tenancy.asMember(
                    Caller.of(ctx, p).principal(),
                    wid,
                    Role.VIEWER,
                    (conn, m) ->
                        conn.preparedQuery(
                                "SELECT * FROM workflow_proposals ORDER BY name, machine_id LIMIT "
                                    + MAX_LIST)
                            .execute()
                            .map(rows -> Rows.all(rows, WorkflowProposals::json))))
        .map(items -> new JsonObject().put("items", new JsonArray(items)));
  }

  private static JsonObject json(io.vertx.sqlclient.Row r) {
    return new JsonObject()
        .put("name", r.getString("name"))
        .put("machine_id", r.getUUID("machine_id").toString())
        .put("base_version", r.getLong("base_version"))
        .put("conflict", r.getBoolean("conflict"))
        .put("yaml", r.getString("yaml"))
        .put("updated_at", r.getOffsetDateTime("updated_at").toString());
  }

  private Future<JsonObject> forMachine(RoutingContext ctx) {
    return machines
        .read(ctx)
        .verified(MachineRequests::workflows, store::list)
        .map(
            l -> {
              JsonArray items = new JsonArray();
              l.forEach(w -> items.add(WorkflowRoutes.json(w)));
              return new JsonObject().put("items", items);
            });
  }

  private Future<JsonObject> propose(RoutingContext ctx) {
    MachineRequestVerifier.Incoming m =
        machines.read(ctx, "name", "base_version", "conflict", "yaml");
    JsonObject body = m.body();
    String name = Requests.string(body, "name", 1, 64);
    if (!(body.getValue("base_version") instanceof Number n) || n.longValue() < 0) {
      throw Refusal.invalid("base_version", "base_version must be 0 or a stored version");
    }
    if (!(body.getValue("conflict") instanceof Boolean conflict)) {
      throw Refusal.invalid("conflict", "conflict must be true or false");
    }
    if (!(body.getValue("yaml") instanceof String yaml)
        || yaml.isEmpty()
        || yaml.length() > WorkflowYaml.MAX_CHARS) {
      throw Refusal.invalid("yaml", "yaml must be the definition's text");
    }
    try {
      if (!WorkflowDefinition.parse(yaml).name().equals(name)) {
        throw Refusal.invalid("yaml", "the definition's name is not the proposal's");
      }
    } catch (CryptoException e) {
      throw Refusal.invalid("yaml", e.getMessage());
    }
    long base = n.longValue();
    OffsetDateTime now = OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
    return m.verified(
            (w, mid, ts) ->
                MachineRequests.workflowProposal(w, mid, ts, name, base, conflict, yaml),
            conn -> upsert(conn, m.request(), name, base, conflict, yaml, now))
        .map(
            changed -> {
              if (changed) {
                proposed(ctx, m.request(), name, base, conflict);
              }
              return new JsonObject().put("name", name);
            });
  }

  /**
   * Audits a new or changed proposal ({@code workflow.proposed}): the machine as actor, the name,
   * the base version and the conflict flag — never the text.
   */
  private void proposed(
      RoutingContext ctx, MachineRequest m, String name, long base, boolean conflict) {
    audit
        .event(AuditAction.WORKFLOW_PROPOSED)
        .workspace(m.workspaceId())
        .actor(AuditActor.machine(m.machineId().toString()))
        .target("workflow", name)
        .request(ctx)
        .meta("workflow", name)
        .meta("base_version", Long.toString(base))
        .meta("conflict", Boolean.toString(conflict))
        .success()
        .emit();
  }

  /** Stores the proposal; true when it is new or its text or flag changed (a replay: false). */
  private static Future<Boolean> upsert(
      SqlConnection conn,
      MachineRequest m,
      String name,
      long base,
      boolean conflict,
      String yaml,
      OffsetDateTime now) {
    return conn.preparedQuery(
            "INSERT INTO workflow_proposals (workspace_id, name, machine_id, yaml, base_version,"
                + " conflict, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (workspace_id,"
                + " name, machine_id) DO UPDATE SET yaml = EXCLUDED.yaml, base_version ="
                + " EXCLUDED.base_version, conflict = EXCLUDED.conflict, updated_at ="
                + " EXCLUDED.updated_at WHERE (workflow_proposals.yaml, workflow_proposals.base_version,"
                + " workflow_proposals.conflict) IS DISTINCT FROM (EXCLUDED.yaml,"
                + " EXCLUDED.base_version, EXCLUDED.conflict) RETURNING 1")
        .execute(Tuple.of(m.workspaceId(), name, m.machineId(), yaml, base, conflict, now))
        .map(rows -> rows.size() > 0);
  }

  /** A new signed version settles the name: its proposals go. */
  static Future<Void> clear(SqlConnection conn, String name) {
    return conn.preparedQuery("DELETE FROM workflow_proposals WHERE name = $1")
        .execute(Tuple.of(name))
        .mapEmpty();
  }
}
