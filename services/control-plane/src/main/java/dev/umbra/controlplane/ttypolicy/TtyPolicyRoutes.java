package dev.umbra.controlplane.ttypolicy;

import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.devices.MachineRequest;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.util.HexFormat;
import java.util.UUID;

/**
 * The WebTTY server policy of each machine (docs/webtty.md, "Server policy"): HTTP only. {@link
 * TtyPolicyDocument} checks a document, {@link TtyPolicyService} decides who may set it, {@link
 * TtyPolicyStore} holds the SQL. The machine fetches its policy with a request signed by its
 * binding key.
 */
public final class TtyPolicyRoutes {
  private static final String PATH = ControlPlanePaths.MACHINE_TTY_POLICY;

  static final Schema DOCUMENT =
      Schema.named(
          "WebTtyPolicyDocument",
          Schema.object()
              .required(
                  "payload",
                  Schema.string(1, TtyPolicyDocument.MAX_PAYLOAD)
                      .describe(
                          "canonical JSON of a umbra-webtty-policy/v1 document (docs/webtty.md, Server policy)"))
              .optional(
                  "signature",
                  Schema.hex(64)
                      .describe(
                          "Ed25519 by the signer device over the payload's UTF-8 bytes; absent only without a workspace keyset"))
              .build());
  static final Schema POLICY =
      Schema.named(
          "WebTtyPolicy",
          Schema.object()
              .required("machine_id", Schema.uuid())
              .required(
                  "version",
                  Schema.integer(0, CryptoConstants.CANONICAL_JSON_MAX_SAFE_INTEGER)
                      .describe("0 when no policy was set"))
              .required("policy", Schema.nullable(DOCUMENT))
              .optional("recording", Schema.bool())
              .optional("join", Schema.oneOf("nobody", "members", "admins"))
              .optional("record_stdin", Schema.bool())
              .optional("signed", Schema.bool())
              .optional("signer_device_id", Schema.nullable(Schema.uuid()))
              .optional("set_by", Schema.uuid())
              .optional("updated_at", Schema.time())
              .build()
              .describe(
                  "the values beside policy are the control plane's listing; clients and daemons verify policy"));

  private final Authenticator auth;
  private final Clock clock;
  private final MachineRequest.Checker machines;
  private final TtyPolicyService policies;

  TtyPolicyRoutes(
      Authenticator auth, Clock clock, MachineRequest.Checker machines, TtyPolicyService policies) {
    this.auth = auth;
    this.clock = clock;
    this.machines = machines;
    this.policies = policies;
  }

  /** The feature wired by hand with only what it uses. */
  public static TtyPolicyRoutes wire(
      Authenticator auth,
      Tenancy tenancy,
      AuditTrail audit,
      MachineRequest.Checker machines,
      Clock clock) {
    return new TtyPolicyRoutes(
        auth, clock, machines, new TtyPolicyService(tenancy, new TtyPolicyStore(), audit, clock));
  }

  public void register(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.GET,
            PATH,
            "The machine's WebTTY server policy: the stored document (signed by a trusted device under Workspace Protection), its version and values; version 0 and policy null when none was set",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            POLICY,
            Handlers.json(200, this::get))
        .add(
            HttpMethod.PUT,
            PATH,
            "Set the machine's WebTTY server policy (admin): a umbra-webtty-policy/v1 document of a higher version, signed by one of the caller's trusted devices (unsigned only without a workspace keyset)",
            Auth.API_TOKEN,
            200,
            Schema.object().required("policy", DOCUMENT).build(),
            POLICY,
            Handlers.json(200, this::put))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.MACHINE_TTY_POLICY_SIGNED,
            "The WebTTY server policy document for a machine that signs with its binding key (the daemon verifies it against its pinned trust)",
            Auth.MACHINE_SIGNATURE,
            200,
            MachineRequest.schema()
                .build()
                .describe(
                    "signature over \"umbra-machine-tty-policy/v1\\n<workspace_id>\\n<machine_id>\\n<timestamp_ms>\""),
            Schema.object()
                .required("machine_id", Schema.uuid())
                .required("policy", Schema.nullable(DOCUMENT))
                .build(),
            Handlers.json(200, this::machine));
  }

  /** The stored document as {@link #DOCUMENT}; null when none was set. */
  private static JsonObject document(TtyPolicy p) {
    if (p == null) {
      return null;
    }
    JsonObject doc = new JsonObject().put("payload", p.payload());
    if (p.signature() != null) {
      doc.put("signature", HexFormat.of().formatHex(p.signature()));
    }
    return doc;
  }

  static JsonObject json(UUID mid, TtyPolicy p) {
    JsonObject j = new JsonObject().put("machine_id", mid.toString());
    if (p == null) {
      return j.put("version", 0).put("policy", null);
    }
    return j.put("version", p.version())
        .put("recording", p.recording())
        .put("join", p.join())
        .put("record_stdin", p.recordStdin())
        .put("signed", p.signature() != null)
        .put("signer_device_id", p.signerDeviceId() == null ? null : p.signerDeviceId().toString())
        .put("set_by", p.setBy().toString())
        .put("updated_at", p.updatedAt().toString())
        .put("policy", document(p));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID mid = Requests.uuidParam(ctx, "machine_id");
    return auth.authenticate(ctx, false)
        .compose(p -> policies.get(Caller.of(ctx, p), wid, mid))
        .map(p -> json(mid, p));
  }

  private Future<JsonObject> put(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID mid = Requests.uuidParam(ctx, "machine_id");
    TtyPolicyDocument doc =
        TtyPolicyDocument.parse(Requests.body(ctx, "policy"), wid, mid, clock.instant());
    return auth.authenticate(ctx, true)
        .compose(p -> policies.set(Caller.of(ctx, p), wid, mid, doc))
        .map(p -> json(mid, p));
  }

  /** The bytes a machine signs to fetch its policy (same as the daemon's TtyPolicySync). */
  static byte[] machineMessage(UUID workspaceId, UUID machineId, long timestampMs) {
    return MachineRequests.ttyPolicy(workspaceId, machineId, timestampMs);
  }

  /** The daemon needs only the document; the listing values are the control plane's word. */
  private Future<JsonObject> machine(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx, "workspace_id", "machine_id", "timestamp_ms", "signature");
    MachineRequest m = MachineRequest.parse(clock, body);
    return m.run(
        machines,
        ctx,
        machineMessage(m.workspaceId(), m.machineId(), m.timestampMs()),
        conn ->
            policies
                .forMachine(conn, m.machineId())
                .map(
                    p ->
                        new JsonObject()
                            .put("machine_id", m.machineId().toString())
                            .put("policy", document(p))));
  }
}
