package dev.umbra.controlplane.messaging;

import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.crypto.secret.WebhookSignatures;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.Locale;
import java.util.UUID;

/**
 * A member's own notification webhook (docs/messaging.md, "Notifications"): set (the secret is
 * shown once), read (without the secret), remove. Any member, for themselves only.
 */
final class WebhookRoutes {
  static final int MAX_URL = 2048;

  private final Authenticator auth;
  private final Tenancy tenancy;
  private final WebhookStore store;
  private final WebhookDestinations destinations;
  private final Clock clock;
  private final boolean allowHttp;

  WebhookRoutes(
      Authenticator auth,
      Tenancy tenancy,
      WebhookStore store,
      WebhookDestinations destinations,
      Clock clock,
      boolean allowHttp) {
    this.auth = auth;
    this.tenancy = tenancy;
    this.store = store;
    this.destinations = destinations;
    this.clock = clock;
    this.allowHttp = allowHttp;
  }

  void register(ApiRoutes routes) {
    Schema hook =
        Schema.object()
            .required("url", Schema.string(8, MAX_URL))
            .required("created_at", Schema.time())
            .build();
    routes
        .add(
            HttpMethod.PUT,
            ControlPlanePaths.NOTIFICATION_WEBHOOK,
            "Set the caller's notification webhook; answers its signing secret once",
            Auth.API_TOKEN,
            200,
            Schema.object()
                .required("url", Schema.string(8, MAX_URL).describe("https (absolute URL)"))
                .build(),
            Schema.object()
                .required("url", Schema.string(8, MAX_URL))
                .required(
                    "secret",
                    Schema.hex(WebhookSignatures.SECRET_BYTES)
                        .describe("HMAC-SHA256 key of X-Umbra-Signature; shown only here"))
                .required("created_at", Schema.time())
                .build(),
            Handlers.json(200, this::put))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.NOTIFICATION_WEBHOOK,
            "The caller's notification webhook (without its secret)",
            Auth.API_TOKEN,
            200,
            Schema.NO_BODY,
            hook,
            Handlers.json(200, this::get))
        .add(
            HttpMethod.DELETE,
            ControlPlanePaths.NOTIFICATION_WEBHOOK,
            "Remove the caller's notification webhook",
            Auth.API_TOKEN,
            204,
            Schema.NO_BODY,
            Schema.EMPTY,
            Handlers.json(204, this::delete));
  }

  private Future<JsonObject> put(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    String url = url(Requests.string(Requests.body(ctx, "url"), "url", 8, MAX_URL));
    byte[] secret = WebhookSignatures.newSecret();
    OffsetDateTime now = OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
    return auth.authenticate(ctx, true)
        .compose(p -> destinationAllowed(URI.create(url).getHost()).map(p))
        .compose(
            p ->
                tenancy.asMember(
                    p,
                    wid,
                    Role.VIEWER,
                    (conn, m) -> store.put(conn, wid, m.accountId(), url, secret, now)))
        .map(
            v ->
                new JsonObject()
                    .put("url", url)
                    .put("secret", HexFormat.of().formatHex(secret))
                    .put("created_at", now.toString()));
  }

  private Future<JsonObject> get(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return auth.authenticate(ctx, false)
        .compose(
            p -> tenancy.asMember(p, wid, Role.VIEWER, (conn, m) -> store.get(conn, m.accountId())))
        .map(
            o ->
                o.map(
                        w ->
                            new JsonObject()
                                .put("url", w.url())
                                .put("created_at", w.createdAt().toString()))
                    .orElseThrow(() -> Refusal.notFound("notification webhook")));
  }

  private Future<JsonObject> delete(RoutingContext ctx) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return auth.authenticate(ctx, true)
        .compose(
            p ->
                tenancy.asMember(
                    p, wid, Role.VIEWER, (conn, m) -> store.delete(conn, m.accountId())))
        .map(
            found -> {
              if (!found) {
                throw Refusal.notFound("notification webhook");
              }
              return null;
            });
  }

  /**
   * Refuses a host that is, or resolves to, an internal address (after authentication: no DNS
   * lookups for strangers). A name that does not resolve now is taken: each delivery checks again.
   */
  private Future<Void> destinationAllowed(String host) {
    return destinations
        .resolve(host)
        .<Void>mapEmpty()
        .recover(
            e ->
                switch (e) {
                  case java.net.UnknownHostException unknown -> Future.succeededFuture();
                  case WebhookDestinations.Refused r ->
                      Future.failedFuture(ApiException.badRequest("url", r.getMessage()));
                  default -> Future.failedFuture(e);
                });
  }

  /** An absolute https URL (http only where allowed), with a host and no user info. */
  String url(String raw) {
    URI u;
    try {
      u = new URI(raw);
    } catch (URISyntaxException e) {
      throw ApiException.badRequest("url", "url is not a valid URL");
    }
    String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
    if (scheme.equals("http") && !allowHttp) {
      throw ApiException.badRequest(
          "url",
          "url must be https (a development deployment admits http with"
              + " UMBRA_WEBHOOK_ALLOW_HTTP=true)");
    }
    boolean ok = scheme.equals("https") || scheme.equals("http");
    if (!ok || u.getHost() == null || u.getRawUserInfo() != null || u.getRawFragment() != null) {
      throw ApiException.badRequest(
          "url", "url must be an absolute https URL with a host and no user info or fragment");
    }
    return raw;
  }
}
