package dev.umbra.daemon.http;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * A small blocking JSON client for the Umbra services (CLI and daemon run outside an event loop).
 * The JDK client behind it is built on the first request: building it sets up TLS (the default
 * trust store) and a selector thread, which CLI commands that make no request (help, version,
 * usage errors) should not pay for.
 */
public final class JsonHttp {
  private static final int MAX_RESPONSE_CHARS = 1024 * 1024;
  private HttpClient client;

  public JsonHttp() {}

  private synchronized HttpClient client() {
    if (client == null) {
      client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    }
    return client;
  }

  public JsonObject get(URI url, String bearer) {
    return send("GET", url, bearer, null, Map.of());
  }

  public JsonObject post(URI url, String bearer, JsonObject body) {
    return send("POST", url, bearer, body, Map.of());
  }

  /**
   * Sends one request; a 2xx answer gives its JSON object (empty for 204), anything else throws
   * {@link ApiError} with the service's code, message and field.
   */
  public JsonObject send(String method, URI url, String bearer, JsonObject body, Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(url)
        .timeout(Duration.ofSeconds(30))
        .header("accept", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body.encode()));
    if (body != null) {
      b.header("content-type", "application/json");
    }
    if (bearer != null) {
      b.header("authorization", "Bearer " + bearer);
    }
    headers.forEach(b::header);
    HttpResponse<String> r;
    try {
      r = client().send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new ApiError(0, "unreachable", "cannot reach " + url.getScheme() + "://" + url.getAuthority() + ": "
          + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiError(0, "interrupted", "interrupted", null);
    }
    String text = r.body() == null ? "" : r.body();
    if (text.length() > MAX_RESPONSE_CHARS) {
      throw new ApiError(r.statusCode(), "oversized", "the service answered with an oversized body", null);
    }
    JsonObject json = null;
    if (!text.isBlank()) {
      try {
        json = new JsonObject(text);
      } catch (DecodeException | ClassCastException e) {
        json = null;
      }
    }
    if (r.statusCode() / 100 == 2) {
      if (json == null && !text.isBlank()) {
        throw new ApiError(r.statusCode(), "bad_response", "the service did not answer with JSON (is this an Umbra URL?)", null);
      }
      return json == null ? new JsonObject() : json;
    }
    JsonObject err = json == null ? null : json.getJsonObject("error");
    if (err == null) {
      throw new ApiError(r.statusCode(), "http_" + r.statusCode(), "request failed with HTTP " + r.statusCode(), null);
    }
    throw new ApiError(r.statusCode(), err.getString("code", "error"), err.getString("message", "request failed"), err.getString("field"));
  }

  /** {@code base} (no trailing slash) + {@code path}. */
  public static URI resolve(String base, String path) {
    return URI.create(base.replaceAll("/+$", "") + path);
  }
}
