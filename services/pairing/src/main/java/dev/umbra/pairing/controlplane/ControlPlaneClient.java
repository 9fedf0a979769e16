package dev.umbra.pairing.controlplane;

import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.util.UUID;

/**
 * The pairing service's calls to the control plane's internal API, authenticated with the shared
 * internal credential ({@link InternalCredential}).
 */
public final class ControlPlaneClient {
  private static final int MAX_RESPONSE_BYTES = 64 * 1024;
  private final HttpClient http;
  private final String base;
  private final InternalCredential credential;

  /**
   * {@code options}: the pairing service's {@code ServiceTls.clientOptions()} (its CA, and its own
   * certificate for a control plane that requires client certificates).
   */
  public ControlPlaneClient(
      Vertx vertx, URI controlPlane, InternalCredential credential, HttpClientOptions options) {
    this.http = vertx.createHttpClient(options);
    this.base = controlPlane.toString().replaceAll("/+$", "");
    this.credential = credential;
  }

  /**
   * Creates the machine binding; the control plane's 409 (install already bound) passes through,
   * anything else unexpected is a 502.
   */
  public Future<JsonObject> createMachine(UUID workspaceId, JsonObject machine) {
    RequestOptions opts =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setAbsoluteURI(base + "/internal/v1/workspaces/" + workspaceId + "/machines")
            .putHeader(InternalCredential.HEADER, credential.value())
            .putHeader("content-type", "application/json")
            .setTimeout(10_000);
    return http.request(opts)
        .compose(req -> req.send(machine.toBuffer()))
        .compose(
            resp ->
                resp.body()
                    .map(
                        body -> {
                          if (body.length() > MAX_RESPONSE_BYTES) {
                            throw new ApiException(
                                502,
                                "bad_gateway",
                                "control plane answered with an oversized body");
                          }
                          if (resp.statusCode() == 201) {
                            return new JsonObject(body);
                          }
                          if (resp.statusCode() == 409) {
                            throw new ApiException(
                                409,
                                "conflict",
                                "this install is already bound to the workspace",
                                "install_id");
                          }
                          throw new ApiException(
                              502,
                              "bad_gateway",
                              "control plane refused the binding (HTTP " + resp.statusCode() + ")");
                        }))
        // bounded to the end, not only until the answer: Vert.x 5.0.7 can drop a response's end
        // (eclipse-vertx/vert.x#6038)
        .timeout(15_000, java.util.concurrent.TimeUnit.MILLISECONDS)
        .recover(
            e ->
                Future.failedFuture(
                    e instanceof ApiException
                        ? e
                        : new ApiException(503, "unavailable", "control plane unreachable")));
  }
}
