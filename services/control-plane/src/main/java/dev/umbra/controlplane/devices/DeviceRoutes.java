package dev.umbra.controlplane.devices;

import static dev.umbra.controlplane.devices.TrustSchemas.DEVICE;
import static dev.umbra.controlplane.devices.TrustSchemas.ENVELOPE;
import static dev.umbra.controlplane.devices.TrustSchemas.SEALED_ENVELOPE;
import static dev.umbra.controlplane.devices.TrustSchemas.SIGNED;

import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Page;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import dev.umbra.proto.api.Device;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.util.UUID;

/**
 * The devices sub-resource (docs/device-trust.md): trust requests signed by the device, approvals,
 * rejections and revocations signed by the workspace key, a device's WebTTY key and its keyset
 * envelope. HTTP only: parse, check the documents' shape ({@link TrustDocuments}), call {@link
 * DeviceService}, render.
 */
final class DeviceRoutes {
  private final Authenticator auth;
  private final Clock clock;
  private final DeviceService devices;

  DeviceRoutes(Authenticator auth, Clock clock, DeviceService devices) {
    this.auth = auth;
    this.clock = clock;
    this.devices = devices;
  }

  void register(ApiRoutes routes) {
    routes
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
            Handlers.json(200, this::get));
    registerDecisions(routes);
    routes
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
            Handlers.json(200, this::deviceEnvelope));
  }

  /** The admin's decisions on a device: approve, reject, revoke. */
  private void registerDecisions(ApiRoutes routes) {
    routes
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
            Handlers.json(200, this::revoke));
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    Page page = Page.of(ctx);
    return auth.as(ctx, false, c -> devices.page(c, wid, page.after(), page.fetch()))
        .map(list -> page.render(list, Device::id, Device::toJson));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "device_id");
    return auth.as(ctx, false, c -> devices.get(c, wid, id)).map(Device::toJson);
  }

  private Future<JsonObject> request(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    JsonObject body = Requests.body(ctx, "request");
    TrustDocuments.DeviceRequest d = TrustDocuments.request(body, wid, clock);
    return auth.as(ctx, true, c -> devices.request(c, wid, d)).map(Device::toJson);
  }

  private Future<JsonObject> approve(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "device_id");
    JsonObject body = Requests.body(ctx, "credential", "envelope");
    String envelope = TrustDocuments.envelope(body, "envelope");
    // the credential is checked by the service, against the device's stored keys and the current
    // keyset
    return auth.as(ctx, true, c -> devices.approve(c, wid, id, body, envelope)).map(Device::toJson);
  }

  private Future<JsonObject> reject(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "device_id");
    return auth.as(ctx, true, c -> devices.reject(c, wid, id)).map(Device::toJson);
  }

  private Future<JsonObject> revoke(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "device_id");
    SignedPayload rev = TrustDocuments.revocation(Requests.body(ctx, "revocation"), wid, id);
    return auth.as(ctx, true, c -> devices.revoke(c, wid, id, rev)).map(Device::toJson);
  }

  private Future<JsonObject> putWebTtyKey(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "device_id");
    SignedPayload k = TrustDocuments.webttyKey(Requests.body(ctx, "webtty_key"), wid, id);
    return auth.as(ctx, true, c -> devices.putWebTtyKey(c, wid, id, k)).map(Device::toJson);
  }

  private Future<JsonObject> deviceEnvelope(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "device_id");
    return auth.as(ctx, false, c -> devices.envelope(c, wid, id)).map(TrustJson::json);
  }
}
