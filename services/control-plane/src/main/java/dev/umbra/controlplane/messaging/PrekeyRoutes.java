package dev.umbra.controlplane.messaging;

import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Requests;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.kit.http.ApiException;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/** Prekey routes (docs/messaging.md, "Prekeys"); schemas in {@link MessagingSchemas}. */
final class PrekeyRoutes {
  static final int MAX_IDENTITY_KEY = 256;
  static final int MAX_SIGNED_PREKEY = 1024;

  private final Parties parties;
  private final PrekeyService prekeys;

  PrekeyRoutes(Parties parties, PrekeyService prekeys) {
    this.parties = parties;
    this.prekeys = prekeys;
  }

  void register(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.POST,
            ControlPlanePaths.PREKEYS,
            "Publish the caller's prekey bundle and add one-time prekeys",
            Auth.SESSION_TOKEN,
            200,
            MessagingSchemas.PREKEY_UPLOAD,
            MessagingSchemas.PREKEY_STATUS,
            Handlers.json(200, this::upload))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.PREKEY_BUNDLE,
            "Fetch a principal's bundle, consuming one one-time prekey",
            Auth.SESSION_TOKEN,
            200,
            Schema.NO_BODY,
            MessagingSchemas.PREKEY_BUNDLE,
            Handlers.json(200, this::fetch))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.PREKEY_STATUS,
            "How many one-time prekeys the caller has left",
            Auth.SESSION_TOKEN,
            200,
            Schema.NO_BODY,
            MessagingSchemas.PREKEY_STATUS,
            Handlers.json(200, this::status));
  }

  private Future<JsonObject> upload(RoutingContext ctx) {
    JsonObject body =
        Requests.body(
            ctx,
            "identity_key",
            "signed_prekey",
            "signed_prekey_id",
            "signed_prekey_expires_at",
            "one_time_prekeys");
    byte[] identity = Parties.bytes(body, "identity_key", 32, MAX_IDENTITY_KEY);
    byte[] signed = Parties.bytes(body, "signed_prekey", 32, MAX_SIGNED_PREKEY);
    long signedId = Parties.nonNegative(body, "signed_prekey_id", Integer.MAX_VALUE);
    OffsetDateTime expires;
    try {
      expires = OffsetDateTime.parse(Requests.string(body, "signed_prekey_expires_at", 1, 40));
    } catch (DateTimeParseException e) {
      throw ApiException.badRequest(
          "signed_prekey_expires_at", "signed_prekey_expires_at must be an RFC 3339 time");
    }
    List<PrekeyStore.OneTime> oneTime = oneTime(body);
    return parties
        .as(
            ctx,
            (conn, p) ->
                prekeys
                    .upload(conn, p, identity, signed, signedId, expires, oneTime)
                    .compose(n -> prekeys.status(conn, p)))
        .map(PrekeyRoutes::statusJson);
  }

  static List<PrekeyStore.OneTime> oneTime(JsonObject body) {
    Object v = body.getValue("one_time_prekeys");
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof JsonArray a) || a.size() > PrekeyService.MAX_ONE_TIME_PER_UPLOAD) {
      throw ApiException.badRequest(
          "one_time_prekeys",
          "one_time_prekeys must be an array of at most "
              + PrekeyService.MAX_ONE_TIME_PER_UPLOAD
              + " keys");
    }
    List<PrekeyStore.OneTime> out = new ArrayList<>();
    Set<Long> seen = new HashSet<>();
    for (Object o : a) {
      if (!(o instanceof JsonObject k)) {
        throw ApiException.badRequest("one_time_prekeys", "each one-time prekey is an object");
      }
      for (String f : k.fieldNames()) {
        if (!f.equals("id") && !f.equals("public_key")) {
          throw ApiException.badRequest("one_time_prekeys", "unknown field '" + f + "'");
        }
      }
      long id = Parties.nonNegative(k, "id", Integer.MAX_VALUE);
      if (!seen.add(id)) {
        throw ApiException.badRequest("one_time_prekeys", "one-time prekey ids must be unique");
      }
      out.add(new PrekeyStore.OneTime(id, Parties.bytes(k, "public_key", 32, 32)));
    }
    return out;
  }

  private Future<JsonObject> fetch(RoutingContext ctx) {
    UUID principal = Requests.uuidParam(ctx, "principal_id");
    return parties
        .as(ctx, (conn, p) -> prekeys.fetch(conn, p, principal))
        .map(
            f -> {
              PrekeyStore.Bundle b = f.bundle();
              return new JsonObject()
                  .put("principal_id", b.principalId().toString())
                  .put("principal_kind", b.principalKind())
                  .put("identity_key", Parties.b64(b.identityKey()))
                  .put("signed_prekey", Parties.b64(b.signedPrekey()))
                  .put("signed_prekey_id", b.signedPrekeyId())
                  .put("signed_prekey_expires_at", b.signedPrekeyExpiresAt().toString())
                  .put(
                      "one_time_prekey",
                      f.oneTime()
                          .map(
                              k ->
                                  new JsonObject()
                                      .put("id", k.id())
                                      .put("public_key", Parties.b64(k.publicKey())))
                          .orElse(null));
            });
  }

  private Future<JsonObject> status(RoutingContext ctx) {
    return parties.as(ctx, (conn, p) -> prekeys.status(conn, p)).map(PrekeyRoutes::statusJson);
  }

  private static JsonObject statusJson(PrekeyService.Status s) {
    return new JsonObject()
        .put("one_time_prekeys", s.oneTime())
        .put("max_one_time_prekeys", PrekeyService.MAX_ONE_TIME_TOTAL)
        .put("signed_prekey_id", s.bundle().map(PrekeyStore.Bundle::signedPrekeyId).orElse(null))
        .put(
            "signed_prekey_expires_at",
            s.bundle().map(b -> b.signedPrekeyExpiresAt().toString()).orElse(null));
  }
}
