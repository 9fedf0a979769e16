package dev.umbra.controlplane.devices;

import static dev.umbra.controlplane.devices.TrustSchemas.CHAIN;
import static dev.umbra.controlplane.devices.TrustSchemas.DEVICE;
import static dev.umbra.controlplane.devices.TrustSchemas.MAX_ROTATION_ITEMS;

import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import dev.umbra.proto.api.Device;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The keyset sub-resource (docs/device-trust.md): the public chain, its creation with the first
 * trusted device, rotation, and the signed trust material a machine pins. HTTP only: parse, check
 * the documents' shape ({@link TrustDocuments}), call {@link KeysetService}, render.
 */
final class KeysetRoutes {
  private final Authenticator auth;
  private final Clock clock;
  private final MachineRequest.Checker machines;
  private final KeysetService keysets;

  KeysetRoutes(
      Authenticator auth, Clock clock, MachineRequest.Checker machines, KeysetService keysets) {
    this.auth = auth;
    this.clock = clock;
    this.machines = machines;
    this.keysets = keysets;
  }

  void register(ApiRoutes routes) {
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
            TrustSchemas.createKeyset(),
            DEVICE,
            Handlers.json(201, this::createKeyset))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.KEYSET_ROTATIONS,
            "Rotate the keyset, re-wrapped for the remaining devices and kits (admin)",
            Auth.API_TOKEN,
            201,
            TrustSchemas.rotation(),
            CHAIN,
            Handlers.json(201, this::rotate))
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
            TrustSchemas.machineTrust(),
            Handlers.json(200, this::machineTrust));
  }

  private Future<JsonObject> keyset(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return auth.as(ctx, false, c -> keysets.chain(c, wid)).map(TrustJson::json);
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
    return auth.as(ctx, true, c -> keysets.create(c, wid, k, d, cred, envelope))
        .map(Device::toJson);
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
    return auth.as(ctx, true, c -> keysets.rotate(c, rotation)).map(TrustJson::json);
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

  /** The bytes a machine signs to fetch trust material (same as the daemon's TrustSync). */
  static byte[] machineTrustMessage(UUID workspaceId, UUID machineId, long timestampMs) {
    return MachineRequests.trust(workspaceId, machineId, timestampMs);
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
                TrustJson.json(t.chain())
                    .put("revocations", TrustJson.docs(t.revocations()))
                    .put("credentials", TrustJson.docs(t.credentials())));
  }
}
