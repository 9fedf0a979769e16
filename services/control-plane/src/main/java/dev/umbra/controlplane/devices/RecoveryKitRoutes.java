package dev.umbra.controlplane.devices;

import static dev.umbra.controlplane.devices.TrustSchemas.ENVELOPE;
import static dev.umbra.controlplane.devices.TrustSchemas.KIT;
import static dev.umbra.controlplane.devices.TrustSchemas.SEALED_ENVELOPE;
import static dev.umbra.controlplane.devices.TrustSchemas.SIGNED;

import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/**
 * The Recovery Kits sub-resource (docs/device-trust.md): list, register, confirm, and the keyset
 * envelope sealed to a kit. HTTP only: parse, call {@link RecoveryKitService}, render.
 */
final class RecoveryKitRoutes {
  private final Authenticator auth;
  private final RecoveryKitService kits;

  RecoveryKitRoutes(Authenticator auth, RecoveryKitService kits) {
    this.auth = auth;
    this.kits = kits;
  }

  void register(ApiRoutes routes) {
    routes
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
            Handlers.json(200, this::kitEnvelope));
  }

  private Future<JsonObject> kits(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return auth.as(ctx, false, c -> kits.all(c, wid))
        .map(
            all -> {
              JsonArray a = new JsonArray();
              all.forEach(k -> a.add(TrustJson.json(k)));
              return new JsonObject().put("items", a);
            });
  }

  private Future<JsonObject> createKit(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    JsonObject body = Requests.body(ctx, "kit", "envelope");
    String envelope = TrustDocuments.envelope(body, "envelope");
    // the kit's signature is checked by the service, against the current workspace key
    return auth.as(ctx, true, c -> kits.create(c, wid, body, envelope)).map(TrustJson::json);
  }

  private Future<JsonObject> confirmKit(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "kit_id");
    Requests.body(ctx);
    return auth.as(ctx, true, c -> kits.confirm(c, wid, id)).map(TrustJson::json);
  }

  private Future<JsonObject> kitEnvelope(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    UUID id = Requests.uuidParam(ctx, "kit_id");
    return auth.as(ctx, false, c -> kits.envelope(c, wid, id)).map(TrustJson::json);
  }
}
