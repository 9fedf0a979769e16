package dev.umbra.controlplane.vault;

import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.devices.MachineRequest;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.ClientAddress;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The context vault's HTTP API (docs/device-trust.md): entries and candidates are HPKE ciphertext
 * sealed on a client to the workspace encryption key of a keyset version; the control plane stores
 * and returns the bytes and never sees a key. Names are visible metadata, like file names. Routes
 * only: they parse and render; {@link VaultService} decides, {@link VaultStore} holds the SQL.
 */
public final class VaultRoutes {
  /** Largest ciphertext accepted (64 KiB of value plus the AEAD tag). */
  public static final int MAX_CIPHERTEXT = 64 * 1024 + 16;

  /** Largest sealed grant accepted. */
  static final int MAX_GRANT_CIPHERTEXT = 16 * 1024;

  static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,127}");

  private final Authenticator auth;
  private final Clock clock;
  private final MachineRequest.Checker machines;
  private final VaultService vault;

  VaultRoutes(
      Authenticator auth, Clock clock, MachineRequest.Checker machines, VaultService vault) {
    this.auth = auth;
    this.clock = clock;
    this.machines = machines;
    this.vault = vault;
  }

  /** The feature wired by hand with only what it uses. */
  public static VaultRoutes wire(
      Authenticator auth,
      Tenancy tenancy,
      AuditTrail audit,
      MachineRequest.Checker machines,
      Ids ids,
      Clock clock) {
    return new VaultRoutes(
        auth, clock, machines, new VaultService(tenancy, new VaultStore(), audit, ids, clock));
  }

  private static final Schema VAULT_NAME =
      Schema.string(1, 128).describe("A-Z a-z 0-9 . _ / -, starting with a letter or digit");
  private static final Schema VERSION =
      Schema.integer(1, Integer.MAX_VALUE).describe("the keyset version the entry is sealed under");
  private static final Schema SEALED =
      Schema.object()
          .required("name", VAULT_NAME)
          .required("keyset_version", VERSION)
          .required("enc", Schema.base64().describe("HPKE encapsulated key, 32 bytes"))
          .required("ciphertext", Schema.base64().describe("16 bytes to 64 KiB + 16"))
          .build();
  private static final Schema ENTRY_META =
      Schema.named(
          "VaultEntryMeta",
          Schema.object()
              .required("id", Schema.uuid())
              .required("name", Schema.string())
              .required("keyset_version", VERSION)
              .required("size", Schema.integer(0, Integer.MAX_VALUE).describe("ciphertext bytes"))
              .required("updated_at", Schema.time())
              .build());
  private static final Schema ENTRY =
      Schema.named(
          "VaultEntry",
          Schema.object()
              .required("id", Schema.uuid())
              .required("name", Schema.string())
              .required("keyset_version", VERSION)
              .required("enc", Schema.base64())
              .required("ciphertext", Schema.base64())
              .required("updated_at", Schema.time())
              .build());
  private static final Schema CANDIDATE_META = Schema.named("VaultCandidateMeta", candidate(false));
  private static final Schema GRANT_ITEM =
      Schema.object()
          .required("machine_id", Schema.uuid())
          .required("keyset_version", VERSION)
          .required("created_at", Schema.time())
          .build();

  private static Schema candidate(boolean withCiphertext) {
    Schema.ObjectBuilder b =
        Schema.object()
            .required("id", Schema.uuid())
            .required("name", Schema.string())
            .required("keyset_version", VERSION)
            .required("proposed_by", Schema.uuid().describe("account id"))
            .required("created_at", Schema.time());
    if (withCiphertext) {
      b.required("enc", Schema.base64()).required("ciphertext", Schema.base64());
    }
    return b.build();
  }

  public void register(ApiRoutes routes) {
    registerEntries(routes);
    registerCandidates(routes);
    registerGrants(routes);
  }

  /** Vault entries: list, write, read, delete. */
  private void registerEntries(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.GET,
            ControlPlanePaths.VAULT_ENTRIES,
            "List vault entries (names and sizes)",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            Schema.list(ENTRY_META),
            Handlers.json(200, this::list))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.VAULT_ENTRIES,
            "Write a vault entry (HPKE ciphertext) by name",
            Auth.API_TOKEN,
            200,
            SEALED,
            ENTRY_META,
            Handlers.json(200, this::put))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.VAULT_ENTRY,
            "Read a vault entry's ciphertext",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            ENTRY,
            Handlers.json(200, this::get))
        .add(
            HttpMethod.DELETE,
            ControlPlanePaths.VAULT_ENTRY,
            "Delete a vault entry",
            Auth.API_TOKEN,
            204,
            Schema.NO_BODY,
            Schema.EMPTY,
            Handlers.json(204, this::delete));
  }

  /** Proposed entries (candidates): list, propose, read, discard. */
  private void registerCandidates(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.GET,
            ControlPlanePaths.VAULT_CANDIDATES,
            "List proposed vault entries",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            Schema.list(CANDIDATE_META),
            Handlers.json(200, this::candidates))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.VAULT_CANDIDATES,
            "Propose a vault entry (HPKE ciphertext)",
            Auth.API_TOKEN,
            201,
            SEALED,
            CANDIDATE_META,
            Handlers.json(201, this::propose))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.VAULT_CANDIDATE,
            "Read a proposed entry's ciphertext",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            candidate(true),
            Handlers.json(200, this::candidate))
        .add(
            HttpMethod.DELETE,
            ControlPlanePaths.VAULT_CANDIDATE,
            "Discard a proposed entry",
            Auth.API_TOKEN,
            204,
            Schema.NO_BODY,
            Schema.EMPTY,
            Handlers.json(204, this::discard));
  }

  /** Machines' access: grants by an admin, and a granted machine's signed read. */
  private void registerGrants(ApiRoutes routes) {
    Schema grantIn =
        Schema.object()
            .required("machine_id", Schema.uuid())
            .required("keyset_version", VERSION)
            .required("enc", Schema.base64())
            .required(
                "ciphertext",
                Schema.base64()
                    .describe(
                        "the vault keys HPKE-sealed to the machine's X25519 key, 16 bytes to 16 KiB"))
            .build();
    Schema machineReadIn =
        dev.umbra.controlplane.devices.MachineRequest.schema()
            .required("name", Schema.string(1, 128))
            .build()
            .describe(
                "signature over \"umbra-machine-vault/v1\\n<workspace_id>\\n<machine_id>\\n<timestamp_ms>\\n<name>\"");
    Schema machineRead =
        Schema.object()
            .required(
                "grant",
                Schema.object()
                    .required("keyset_version", VERSION)
                    .required("enc", Schema.base64())
                    .required("ciphertext", Schema.base64())
                    .build())
            .required("entry", ENTRY)
            .build();
    routes
        .add(
            HttpMethod.GET,
            ControlPlanePaths.VAULT_GRANTS,
            "List machines granted vault access (admin)",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            Schema.list(GRANT_ITEM),
            Handlers.json(200, this::grants))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.VAULT_GRANTS,
            "Grant a machine vault access: vault keys HPKE-sealed to it (admin)",
            Auth.API_TOKEN,
            200,
            grantIn,
            Schema.object()
                .required("machine_id", Schema.uuid())
                .required("keyset_version", VERSION)
                .build(),
            Handlers.json(200, this::grant))
        .add(
            HttpMethod.DELETE,
            ControlPlanePaths.VAULT_GRANT,
            "Withdraw a machine's vault access (admin)",
            Auth.API_TOKEN,
            204,
            Schema.NO_BODY,
            Schema.EMPTY,
            Handlers.json(204, this::ungrant))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.MACHINE_VAULT,
            "A granted machine reads a vault entry's ciphertext and its grant",
            Auth.MACHINE_SIGNATURE,
            200,
            machineReadIn,
            machineRead,
            Handlers.json(200, this::machineRead));
  }

  static Sealed sealedIn(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx, "name", "keyset_version", "enc", "ciphertext");
    String name = Requests.string(body, "name", 1, 128);
    if (!NAME.matcher(name).matches()) {
      throw ApiException.badRequest(
          "name", "name must be 1 to 128 of A-Z a-z 0-9 . _ / - and start with a letter or digit");
    }
    int version = keysetVersion(body);
    byte[] enc = bytes(body, "enc", 32, 32);
    byte[] ct = bytes(body, "ciphertext", 16, MAX_CIPHERTEXT);
    return new Sealed(name, version, enc, ct);
  }

  private static int keysetVersion(JsonObject body) {
    if (!(body.getValue("keyset_version") instanceof Number n)
        || n.longValue() < 1
        || n.longValue() > Integer.MAX_VALUE) {
      throw ApiException.badRequest("keyset_version", "keyset_version must be a positive integer");
    }
    return n.intValue();
  }

  private static byte[] bytes(JsonObject body, String field, int min, int max) {
    String s = Requests.string(body, field, 1, max * 2);
    byte[] b;
    try {
      b = Base64.getDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(field, field + " must be base64");
    }
    if (b.length < min || b.length > max) {
      throw ApiException.badRequest(field, field + " must be " + min + " to " + max + " bytes");
    }
    return b;
  }

  private static <T> JsonObject items(List<T> list, Function<T, JsonObject> json) {
    JsonArray a = new JsonArray();
    list.forEach(t -> a.add(json.apply(t)));
    return new JsonObject().put("items", a);
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return auth.as(ctx, false, c -> vault.entries(c, wid)).map(l -> items(l, VaultRoutes::json));
  }

  private Future<JsonObject> put(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    Sealed s = sealedIn(ctx);
    return auth.as(ctx, true, c -> vault.put(c, wid, s)).map(VaultRoutes::json);
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "entry_id");
    return auth.as(ctx, false, c -> vault.entry(c, wid, id)).map(VaultRoutes::json);
  }

  private Future<Void> delete(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "entry_id");
    return auth.as(ctx, true, c -> vault.delete(c, wid, id));
  }

  private Future<JsonObject> candidates(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return auth.as(ctx, false, c -> vault.candidates(c, wid))
        .map(l -> items(l, k -> json(k, false)));
  }

  private Future<JsonObject> propose(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    Sealed s = sealedIn(ctx);
    return auth.as(ctx, true, c -> vault.propose(c, wid, s)).map(k -> json(k, false));
  }

  private Future<JsonObject> candidate(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "candidate_id");
    return auth.as(ctx, false, c -> vault.candidate(c, wid, id)).map(k -> json(k, true));
  }

  private Future<Void> discard(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "candidate_id");
    return auth.as(ctx, true, c -> vault.discard(c, wid, id));
  }

  // ---- grants to machines ----

  /** The bytes a machine signs to read entry {@code name}. */
  public static byte[] machineReadMessage(
      UUID workspaceId, UUID machineId, long timestampMs, String name) {
    return MachineRequests.vault(workspaceId, machineId, timestampMs, name);
  }

  private Future<JsonObject> grants(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return auth.as(ctx, false, c -> vault.grants(c, wid))
        .map(
            l ->
                items(
                    l,
                    g ->
                        new JsonObject()
                            .put("machine_id", g.machineId().toString())
                            .put("keyset_version", g.keysetVersion())
                            .put("created_at", g.createdAt().toString())));
  }

  private Future<JsonObject> grant(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    JsonObject body = Requests.body(ctx, "machine_id", "keyset_version", "enc", "ciphertext");
    UUID mid = Requests.uuid(Requests.string(body, "machine_id", 36, 36), "machine_id");
    int version = keysetVersion(body);
    byte[] enc = bytes(body, "enc", 32, 32);
    byte[] ct = bytes(body, "ciphertext", 16, MAX_GRANT_CIPHERTEXT);
    return auth.as(ctx, true, c -> vault.grant(c, wid, mid, version, enc, ct))
        .map(
            x -> new JsonObject().put("machine_id", mid.toString()).put("keyset_version", version));
  }

  private Future<Void> ungrant(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID mid = Requests.uuidParam(ctx, "machine_id");
    return auth.as(ctx, true, c -> vault.ungrant(c, wid, mid));
  }

  private Future<JsonObject> machineRead(RoutingContext ctx) {
    JsonObject body =
        Requests.body(ctx, "workspace_id", "machine_id", "timestamp_ms", "signature", "name");
    String name = Requests.string(body, "name", 1, 128);
    MachineRequest m = MachineRequest.parse(clock, body);
    return m.run(
            machines,
            ctx,
            machineReadMessage(m.workspaceId(), m.machineId(), m.timestampMs(), name),
            conn ->
                vault.machineRead(
                    conn, ClientAddress.forAudit(ctx), m.workspaceId(), m.machineId(), name))
        .map(AuditTrail.Done::committed)
        .map(
            r ->
                new JsonObject()
                    .put(
                        "grant",
                        new JsonObject()
                            .put("keyset_version", r.grant().keysetVersion())
                            .put("enc", base64(r.grant().enc()))
                            .put("ciphertext", base64(r.grant().ciphertext())))
                    .put("entry", json(r.entry())));
  }

  // ---- rendering ----

  private static String base64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  private static JsonObject json(VaultEntry.Meta e) {
    return new JsonObject()
        .put("id", e.id().toString())
        .put("name", e.name())
        .put("keyset_version", e.keysetVersion())
        .put("size", e.size())
        .put("updated_at", e.updatedAt().toString());
  }

  private static JsonObject json(VaultEntry e) {
    return new JsonObject()
        .put("id", e.id().toString())
        .put("name", e.name())
        .put("keyset_version", e.keysetVersion())
        .put("enc", base64(e.enc()))
        .put("ciphertext", base64(e.ciphertext()))
        .put("updated_at", e.updatedAt().toString());
  }

  private static JsonObject json(VaultCandidate c, boolean withCiphertext) {
    JsonObject j =
        new JsonObject()
            .put("id", c.id().toString())
            .put("name", c.name())
            .put("keyset_version", c.keysetVersion())
            .put("proposed_by", c.proposedBy().toString())
            .put("created_at", c.createdAt().toString());
    if (withCiphertext) {
      j.put("enc", base64(c.enc())).put("ciphertext", base64(c.ciphertext()));
    }
    return j;
  }
}
