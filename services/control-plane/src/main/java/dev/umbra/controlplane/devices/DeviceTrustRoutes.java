package dev.umbra.controlplane.devices;

import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Page;
import dev.umbra.controlplane.http.Requests;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.notify.RevocationNotices;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.kit.http.ApiException;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * Workspace Protection's HTTP API (docs/device-trust.md): the public keyset chain, device trust
 * requests, approvals and revocations signed by the workspace key, keyset envelopes, rotation,
 * Recovery Kits, and the signed trust material daemons pin. Routes only: they read parameters and
 * bodies, check the documents' shape ({@link TrustDocuments}), call {@link KeysetService}, {@link
 * DeviceService} or {@link RecoveryKitService}, and render the answer; the stores hold the SQL.
 * Only public keys, signed payloads and envelopes (ciphertext) pass through here.
 */
public final class DeviceTrustRoutes {
  static final int MAX_ROTATION_ITEMS = 1000;

  private final Authenticator auth;
  private final Clock clock;
  private final MachineRequest.Checker machines;
  private final KeysetService keysets;
  private final DeviceService devices;
  private final RecoveryKitService kits;

  DeviceTrustRoutes(
      Authenticator auth,
      Clock clock,
      MachineRequest.Checker machines,
      KeysetService keysets,
      DeviceService devices,
      RecoveryKitService kits) {
    this.auth = auth;
    this.clock = clock;
    this.machines = machines;
    this.keysets = keysets;
    this.devices = devices;
    this.kits = kits;
  }

  /** The feature wired by hand: its stores, services and routes, each given only what it uses. */
  public static DeviceTrustRoutes wire(
      Authenticator auth,
      Tenancy tenancy,
      AuditTrail audit,
      RevocationNotices revocations,
      MachineRequest.Checker machines,
      Clock clock) {
    KeysetStore keysetStore = new KeysetStore();
    DeviceStore deviceStore = new DeviceStore();
    RecoveryKitStore kitStore = new RecoveryKitStore();
    return new DeviceTrustRoutes(
        auth,
        clock,
        machines,
        new KeysetService(tenancy, keysetStore, deviceStore, kitStore, audit, revocations, clock),
        new DeviceService(tenancy, keysetStore, deviceStore, audit, revocations, clock),
        new RecoveryKitService(tenancy, keysetStore, kitStore, audit, clock));
  }

  /**
   * A signed document: canonical JSON text and the Ed25519 signature over its UTF-8 bytes
   * (docs/device-trust.md).
   */
  static final Schema SIGNED =
      Schema.named(
          "SignedPayload",
          Schema.object()
              .required(
                  "payload",
                  Schema.string(1, SignedPayload.MAX_PAYLOAD)
                      .describe(
                          "canonical JSON object as text (DESIGN.md §7); its \"type\" names the document"))
              .required("signature", Schema.hex(64))
              .build());

  private static final Schema ENVELOPE =
      Schema.anyObject("a workspace key envelope (canonical JSON object, docs/crypto.md)");
  private static final Schema KEY_HEX = Schema.string().describe("public key, lower-case hex");
  private static final Schema DEVICE =
      Schema.named(
          "Device",
          Schema.object()
              .required("id", Schema.uuid())
              .required("workspace_id", Schema.uuid())
              .required("account_id", Schema.uuid())
              .required("name", Schema.string())
              .required("kind", Schema.oneOf("cli", "daemon", "browser"))
              .required(
                  "status",
                  Schema.oneOf("pending", "trusted", "revoked", "rejected")
                      .describe("rejected only in the answer to a rejection (the row is deleted)"))
              .required("ed25519_public_key", Schema.hex(32))
              .required("p256_public_key", KEY_HEX)
              .required("request", SIGNED)
              .required("credential", Schema.nullable(SIGNED))
              .required("revocation", Schema.nullable(SIGNED))
              .required("keyset_version", Schema.nullable(Schema.integer(1, Integer.MAX_VALUE)))
              .required("created_at", Schema.time())
              .required("approved_at", Schema.nullable(Schema.time()))
              .required("revoked_at", Schema.nullable(Schema.time()))
              .optional(
                  "webtty_key",
                  Schema.nullable(
                      SIGNED.describe(
                          "umbra-device-webtty-key/v1 signed by the device (docs/device-trust.md, WebTTY keys); null until published")))
              .build());
  private static final Schema CHAIN =
      Schema.named(
          "KeysetChain",
          Schema.object()
              .required(
                  "keysets",
                  Schema.array(SIGNED).describe("every keyset (umbra-keyset/v1), oldest first"))
              .required("current_version", Schema.nullable(Schema.integer(1, Integer.MAX_VALUE)))
              .build());
  private static final Schema KIT =
      Schema.named(
          "RecoveryKit",
          Schema.object()
              .required("id", Schema.uuid())
              .required("status", Schema.oneOf("pending", "confirmed", "retired"))
              .required("kit", SIGNED)
              .required("created_at", Schema.time())
              .required("confirmed_at", Schema.nullable(Schema.time()))
              .build());
  private static final Schema SEALED_ENVELOPE =
      Schema.object()
          .required("keyset_version", Schema.integer(1, Integer.MAX_VALUE))
          .required("envelope", ENVELOPE)
          .build();

  public void register(ApiRoutes routes) {
    Schema createKeyset =
        Schema.object()
            .required("keyset", SIGNED.describe("umbra-keyset/v1, version 1, self-signed"))
            .required("request", SIGNED.describe("umbra-device-request/v1 signed by the device"))
            .required(
                "credential",
                SIGNED.describe("umbra-device-credential/v1 signed by the workspace key"))
            .required("envelope", ENVELOPE)
            .build();
    Schema rotation =
        Schema.object()
            .required(
                "keyset", SIGNED.describe("the next version, signed by the current workspace key"))
            .required(
                "devices",
                Schema.array(
                        Schema.object()
                            .required("device_id", Schema.uuid())
                            .required("credential", SIGNED)
                            .required("envelope", ENVELOPE)
                            .build(),
                        1,
                        MAX_ROTATION_ITEMS)
                    .describe("every remaining trusted device, exactly once"))
            .optional(
                "recovery_kits",
                Schema.array(
                        Schema.object()
                            .required("kit_id", Schema.uuid())
                            .required("kit", SIGNED)
                            .required("envelope", ENVELOPE)
                            .build(),
                        0,
                        MAX_ROTATION_ITEMS)
                    .describe("kits to keep; others are retired"))
            .build();
    routes
        .add(
            HttpMethod.GET,
            ControlPlanePaths.KEYSET,
            "The workspace's public keyset chain",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            CHAIN,
            Handlers.json(200, this::keyset))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.KEYSET,
            "Create the workspace keyset with its first trusted device (owner)",
            Auth.API_TOKEN,
            201,
            createKeyset,
            DEVICE,
            Handlers.json(201, this::createKeyset))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.KEYSET_ROTATIONS,
            "Rotate the keyset, re-wrapped for the remaining devices and kits (admin)",
            Auth.API_TOKEN,
            201,
            rotation,
            CHAIN,
            Handlers.json(201, this::rotate))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.DEVICES,
            "List devices",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            Schema.page(DEVICE),
            Handlers.json(200, this::list))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.DEVICES,
            "Ask to trust a device (signed request)",
            Auth.API_TOKEN,
            201,
            Schema.object()
                .required(
                    "request",
                    SIGNED.describe("umbra-device-request/v1 signed by the device's Ed25519 key"))
                .build(),
            DEVICE,
            Handlers.json(201, this::request))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.DEVICE,
            "Get a device",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            DEVICE,
            Handlers.json(200, this::get))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.DEVICE_APPROVAL,
            "Approve a device: credential signed by the workspace key and its envelope (admin)",
            Auth.API_TOKEN,
            200,
            Schema.object().required("credential", SIGNED).required("envelope", ENVELOPE).build(),
            DEVICE,
            Handlers.json(200, this::approve))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.DEVICE_REJECTION,
            "Reject a pending device request; the request is deleted (admin)",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            DEVICE,
            Handlers.json(200, this::reject))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.DEVICE_REVOCATION,
            "Revoke a device with a revocation signed by the workspace key (admin)",
            Auth.API_TOKEN,
            200,
            Schema.object()
                .required(
                    "revocation",
                    SIGNED.describe(
                        "umbra-device-revocation/v1 signed by the current workspace key"))
                .build(),
            DEVICE,
            Handlers.json(200, this::revoke))
        .add(
            HttpMethod.PUT,
            ControlPlanePaths.DEVICE_WEBTTY_KEY,
            "Publish one of your own devices' WebTTY X25519 key, signed by the device (openers grant session output keys to it)",
            Auth.API_TOKEN,
            200,
            Schema.object()
                .required(
                    "webtty_key",
                    SIGNED.describe(
                        "umbra-device-webtty-key/v1 signed by this device's Ed25519 key"))
                .build(),
            DEVICE,
            Handlers.json(200, this::putWebTtyKey))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.DEVICE_ENVELOPE,
            "The keyset envelope sealed to a trusted device",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            SEALED_ENVELOPE,
            Handlers.json(200, this::deviceEnvelope))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.RECOVERY_KITS,
            "List Recovery Kits (admin)",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            Schema.list(KIT),
            Handlers.json(200, this::kits))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.RECOVERY_KITS,
            "Register a new Recovery Kit, pending until confirmed (admin)",
            Auth.API_TOKEN,
            201,
            Schema.object()
                .required(
                    "kit",
                    SIGNED.describe("umbra-recovery-kit/v1 signed by the current workspace key"))
                .required("envelope", ENVELOPE)
                .build(),
            KIT,
            Handlers.json(201, this::createKit))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.RECOVERY_KIT_CONFIRMATION,
            "Confirm a Recovery Kit is stored; retires the previous one (admin)",
            Auth.API_TOKEN,
            200,
            Schema.object().build().describe("an empty object (or no body)"),
            KIT,
            Handlers.json(200, this::confirmKit))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.RECOVERY_KIT_ENVELOPE,
            "The keyset envelope sealed to a Recovery Kit (admin)",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            SEALED_ENVELOPE,
            Handlers.json(200, this::kitEnvelope))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.MACHINE_TRUST,
            "Signed trust material for a machine to pin (keyset chain, revocations, trusted devices' current credentials)",
            Auth.MACHINE_SIGNATURE,
            200,
            MachineRequest.schema()
                .build()
                .describe(
                    "signature over \"umbra-machine-trust/v1\\n<workspace_id>\\n<machine_id>\\n<timestamp_ms>\""),
            Schema.object()
                .required("keysets", Schema.array(SIGNED))
                .required("current_version", Schema.nullable(Schema.integer(1, Integer.MAX_VALUE)))
                .required("revocations", Schema.array(SIGNED).describe("every device revocation"))
                .required(
                    "credentials",
                    Schema.array(SIGNED).describe("the trusted devices' current credentials"))
                .build(),
            Handlers.json(200, this::machineTrust));
  }

  // ---- handlers: parse, call the service, render ----

  /**
   * Authenticates the caller ({@code write}: a token that may write) and runs {@code work} as it.
   */
  private <T> Future<T> as(RoutingContext ctx, boolean write, Function<Caller, Future<T>> work) {
    return auth.authenticate(ctx, write).compose(p -> work.apply(Caller.of(ctx, p)));
  }

  private Future<JsonObject> keyset(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return as(ctx, false, c -> keysets.chain(c, wid)).map(DeviceTrustRoutes::json);
  }

  private Future<JsonObject> createKeyset(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    JsonObject body = Requests.body(ctx, "keyset", "request", "credential", "envelope");
    TrustDocuments.Keyset k = TrustDocuments.keyset(body, wid);
    if (k.version() != 1) {
      throw ApiException.badRequest("keyset", "the first keyset has version 1");
    }
    k.signed().verify(k.signingKey());
    TrustDocuments.DeviceRequest d = TrustDocuments.request(body, wid, clock);
    SignedPayload cred =
        TrustDocuments.credential(
            body,
            "credential",
            wid,
            d.id(),
            d.signingKey().toBytes(),
            d.envelopeKey().toBytes(),
            1,
            k.signingKey());
    String envelope = TrustDocuments.envelope(body, "envelope");
    return as(ctx, true, c -> keysets.create(c, wid, k, d, cred, envelope))
        .map(DeviceTrustRoutes::json);
  }

  private Future<JsonObject> rotate(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    JsonObject body = Requests.body(ctx, "keyset", "devices", "recovery_kits");
    TrustDocuments.Keyset k = TrustDocuments.keyset(body, wid);
    JsonArray devs = body.getValue("devices") instanceof JsonArray a ? a : null;
    JsonArray kitItems =
        body.getValue("recovery_kits") instanceof JsonArray a ? a : new JsonArray();
    if (devs == null || devs.isEmpty() || devs.size() > MAX_ROTATION_ITEMS) {
      throw ApiException.badRequest(
          "devices",
          "devices must list every remaining trusted device (1 to " + MAX_ROTATION_ITEMS + ")");
    }
    if (kitItems.size() > MAX_ROTATION_ITEMS) {
      throw ApiException.badRequest("recovery_kits", "too many recovery_kits");
    }
    Map<UUID, JsonObject> byDevice =
        byId(
            devs,
            "devices",
            "device_id",
            "each device needs device_id, credential and envelope",
            "a device is listed twice");
    Map<UUID, JsonObject> byKit =
        byId(
            kitItems,
            "recovery_kits",
            "kit_id",
            "each recovery kit needs kit_id, kit and envelope",
            "a kit is listed twice");
    Rotation rotation = new Rotation(wid, k, byDevice, byKit);
    return as(ctx, true, c -> keysets.rotate(c, rotation)).map(DeviceTrustRoutes::json);
  }

  /** The items of {@code array} by their {@code idMember}, each an object naming a distinct id. */
  private static Map<UUID, JsonObject> byId(
      JsonArray array, String field, String idMember, String malformed, String twice) {
    Map<UUID, JsonObject> byId = new HashMap<>();
    for (Object o : array) {
      if (!(o instanceof JsonObject j) || !(j.getValue(idMember) instanceof String id)) {
        throw ApiException.badRequest(field, malformed);
      }
      if (byId.put(Requests.uuid(id, field), j) != null) {
        throw ApiException.badRequest(field, twice);
      }
    }
    return byId;
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    Page page = Page.of(ctx);
    return as(ctx, false, c -> devices.page(c, wid, page.after(), page.fetch()))
        .map(list -> page.render(list, Device::id, DeviceTrustRoutes::json));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "device_id");
    return as(ctx, false, c -> devices.get(c, wid, id)).map(DeviceTrustRoutes::json);
  }

  private Future<JsonObject> request(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    JsonObject body = Requests.body(ctx, "request");
    TrustDocuments.DeviceRequest d = TrustDocuments.request(body, wid, clock);
    return as(ctx, true, c -> devices.request(c, wid, d)).map(DeviceTrustRoutes::json);
  }

  private Future<JsonObject> approve(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "device_id");
    JsonObject body = Requests.body(ctx, "credential", "envelope");
    String envelope = TrustDocuments.envelope(body, "envelope");
    // the credential is checked by the service, against the device's stored keys and the current
    // keyset
    return as(ctx, true, c -> devices.approve(c, wid, id, body, envelope))
        .map(DeviceTrustRoutes::json);
  }

  private Future<JsonObject> reject(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "device_id");
    return as(ctx, true, c -> devices.reject(c, wid, id)).map(DeviceTrustRoutes::json);
  }

  private Future<JsonObject> revoke(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "device_id");
    SignedPayload rev = TrustDocuments.revocation(Requests.body(ctx, "revocation"), wid, id);
    return as(ctx, true, c -> devices.revoke(c, wid, id, rev)).map(DeviceTrustRoutes::json);
  }

  private Future<JsonObject> putWebTtyKey(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "device_id");
    SignedPayload k = TrustDocuments.webttyKey(Requests.body(ctx, "webtty_key"), wid, id);
    return as(ctx, true, c -> devices.putWebTtyKey(c, wid, id, k)).map(DeviceTrustRoutes::json);
  }

  private Future<JsonObject> deviceEnvelope(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "device_id");
    return as(ctx, false, c -> devices.envelope(c, wid, id)).map(DeviceTrustRoutes::json);
  }

  private Future<JsonObject> kits(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return as(ctx, false, c -> kits.all(c, wid))
        .map(
            all -> {
              JsonArray a = new JsonArray();
              all.forEach(k -> a.add(json(k)));
              return new JsonObject().put("items", a);
            });
  }

  private Future<JsonObject> createKit(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    JsonObject body = Requests.body(ctx, "kit", "envelope");
    String envelope = TrustDocuments.envelope(body, "envelope");
    // the kit's signature is checked by the service, against the current workspace key
    return as(ctx, true, c -> kits.create(c, wid, body, envelope)).map(DeviceTrustRoutes::json);
  }

  private Future<JsonObject> confirmKit(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "kit_id");
    Requests.body(ctx);
    return as(ctx, true, c -> kits.confirm(c, wid, id)).map(DeviceTrustRoutes::json);
  }

  private Future<JsonObject> kitEnvelope(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "kit_id");
    return as(ctx, false, c -> kits.envelope(c, wid, id)).map(DeviceTrustRoutes::json);
  }

  /** The bytes a machine signs to fetch trust material (same as the daemon's TrustSync). */
  static byte[] machineTrustMessage(UUID workspaceId, UUID machineId, long timestampMs) {
    return ("umbra-machine-trust/v1\n" + workspaceId + "\n" + machineId + "\n" + timestampMs)
        .getBytes(StandardCharsets.UTF_8);
  }

  private Future<JsonObject> machineTrust(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx, "workspace_id", "machine_id", "timestamp_ms", "signature");
    MachineRequest m = MachineRequest.parse(clock, body);
    return m.run(
            machines,
            ctx,
            machineTrustMessage(m.workspaceId(), m.machineId(), m.timestampMs()),
            keysets::trustMaterial)
        .map(
            t ->
                json(t.chain())
                    .put("revocations", docs(t.revocations()))
                    .put("credentials", docs(t.credentials())));
  }

  // ---- rendering ----

  static JsonObject json(KeysetChain chain) {
    return new JsonObject()
        .put("keysets", docs(chain.keysets()))
        .put("current_version", chain.currentVersion());
  }

  private static JsonArray docs(List<SignedDoc> docs) {
    JsonArray a = new JsonArray();
    docs.forEach(d -> a.add(d.json()));
    return a;
  }

  static JsonObject json(Device d) {
    HexFormat hex = HexFormat.of();
    return new JsonObject()
        .put("id", d.id().toString())
        .put("workspace_id", d.workspaceId().toString())
        .put("account_id", d.accountId().toString())
        .put("name", d.name())
        .put("kind", d.kind())
        .put("status", d.status())
        .put("ed25519_public_key", hex.formatHex(d.ed25519PublicKey()))
        .put("p256_public_key", hex.formatHex(d.p256PublicKey()))
        .put("request", d.request().json())
        .put("credential", json(d.credential()))
        .put("revocation", json(d.revocation()))
        .put("keyset_version", d.keysetVersion())
        .put("created_at", d.createdAt().toString())
        .put("approved_at", str(d.approvedAt()))
        .put("revoked_at", str(d.revokedAt()))
        .put("webtty_key", json(d.webttyKey()));
  }

  private static JsonObject json(SignedDoc doc) {
    return doc == null ? null : doc.json();
  }

  static JsonObject json(RecoveryKit k) {
    return new JsonObject()
        .put("id", k.id().toString())
        .put("status", k.status())
        .put("kit", k.kit().json())
        .put("created_at", k.createdAt().toString())
        .put("confirmed_at", str(k.confirmedAt()));
  }

  static JsonObject json(SealedEnvelope e) {
    return new JsonObject()
        .put("keyset_version", e.keysetVersion())
        .put("envelope", new JsonObject(e.envelope()));
  }

  private static String str(OffsetDateTime t) {
    return t == null ? null : t.toString();
  }
}
