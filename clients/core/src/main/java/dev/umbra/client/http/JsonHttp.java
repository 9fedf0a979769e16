package dev.umbra.client.http;

import dev.umbra.proto.api.WireVersions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A small blocking JSON client for the Umbra services (CLI and daemon run outside an event loop).
 * {@code http://} URLs go through {@link PlainHttp} (one connection per request, nothing else
 * loaded); {@code https://} through the JDK client, built on the first such request: building it
 * sets up TLS (the default trust store) and a selector thread, which commands that make no HTTPS
 * request should not pay for. JSON in both directions through {@link JsonText}, not Jackson
 * (docs/cli.md, "Start-up"). Neither follows redirects.
 */
public final class JsonHttp {
  private static final int MAX_RESPONSE_CHARS = 1024 * 1024;
  private final ClientTls tls;
  private HttpClient client;

  /** With the JDK's system trust. */
  public JsonHttp() {
    this(ClientTls.system());
  }

  /** Verifying {@code https://} services with {@code tls} (a CA file, a pin). */
  public JsonHttp(ClientTls tls) {
    this.tls = tls;
  }

  /** The TLS trust of this client, for the WebSockets opened beside it. */
  public ClientTls tls() {
    return tls;
  }

  /**
   * The JDK client behind these calls (HTTP/1.1, this trust and pin), for the callers that stream a
   * body (audit tail and export, recording export), so they verify a server as every call does.
   */
  public synchronized HttpClient client() {
    if (client == null) {
      client =
          HttpClient.newBuilder()
              .sslContext(tls.sslContext())
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(Duration.ofSeconds(10))
              .build();
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
  public JsonObject send(
      String method, URI url, String bearer, JsonObject body, Map<String, String> headers) {
    Map<String, String> all = new LinkedHashMap<>();
    all.put("accept", "application/json");
    // the wire versions this build speaks (docs/deploy.md, "Upgrades"); a refusal is a 426 whose
    // message names both sides' versions, thrown as an ApiError like any other
    all.put(WireVersions.HEADER, WireVersions.THIS_BUILD.header());
    if (body != null) {
      all.put("content-type", "application/json");
    }
    if (bearer != null) {
      all.put("authorization", "Bearer " + bearer);
    }
    all.putAll(headers);
    byte[] bytes = body == null ? null : JsonText.encode(body).getBytes(StandardCharsets.UTF_8);
    Reply reply = exchange(method, url, all, bytes);
    return answer(reply.status(), reply.text());
  }

  /** A response as received: its status and its body as text (empty when there was none). */
  private record Reply(int status, String text) {}

  /**
   * One request: plain HTTP through {@link PlainHttp}, HTTPS through the JDK client; what goes
   * wrong on the way is an {@link ApiError} with status 0 (unreachable, bad_response, oversized).
   */
  private Reply exchange(String method, URI url, Map<String, String> all, byte[] bytes) {
    try {
      if ("http".equalsIgnoreCase(url.getScheme())) {
        // a UTF-8 character is at least one byte: a body of at most MAX_RESPONSE_CHARS * 4 bytes
        // may still be within the character limit, checked below as for the JDK client
        PlainHttp.Response r =
            PlainHttp.exchange(
                method,
                url,
                all,
                bytes,
                Duration.ofSeconds(10),
                Duration.ofSeconds(30),
                MAX_RESPONSE_CHARS * 4);
        return new Reply(r.status(), r.text());
      } else {
        HttpRequest.Builder b =
            HttpRequest.newBuilder(url)
                .timeout(Duration.ofSeconds(30))
                .method(
                    method,
                    bytes == null
                        ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(bytes));
        all.forEach(b::header);
        HttpResponse<String> r = client().send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body() == null ? "" : r.body());
      }
    } catch (PlainHttp.Refused e) {
      if (e.reason() == PlainHttp.Reason.OVERSIZED) {
        throw new ApiError(0, "oversized", "the service answered with an oversized response", null);
      }
      throw new ApiError(
          0,
          "bad_response",
          "the service at "
              + url.getScheme()
              + "://"
              + url.getAuthority()
              + " sent a malformed HTTP response: "
              + e.getMessage(),
          null);
    } catch (IOException e) {
      if (ClientTls.isTls(e)) {
        throw new ApiError(
            0,
            "tls_refused",
            "refused TLS with "
                + url.getScheme()
                + "://"
                + url.getAuthority()
                + ": "
                + ClientTls.explain(e),
            null);
      }
      throw new ApiError(
          0,
          "unreachable",
          "cannot reach "
              + url.getScheme()
              + "://"
              + url.getAuthority()
              + ": "
              + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()),
          null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiError(0, "interrupted", "interrupted", null);
    }
  }

  /**
   * The JSON object of a 2xx answer (empty for an empty body), else the service's error as an
   * {@link ApiError}.
   */
  private static JsonObject answer(int status, String text) {
    if (text.length() > MAX_RESPONSE_CHARS) {
      throw new ApiError(status, "oversized", "the service answered with an oversized body", null);
    }
    JsonObject json = null;
    if (!text.isBlank()) {
      try {
        json = JsonText.parseObject(text);
      } catch (JsonText.MalformedJsonException e) {
        json = null;
      }
    }
    if (status / 100 == 2) {
      if (json == null && !text.isBlank()) {
        throw new ApiError(
            status,
            "bad_response",
            "the service did not answer with JSON (is this an Umbra URL?)",
            null);
      }
      return json == null ? new JsonObject() : json;
    }
    JsonObject err = json == null ? null : json.getJsonObject("error");
    if (err == null) {
      throw new ApiError(status, "http_" + status, "request failed with HTTP " + status, null);
    }
    throw new ApiError(
        status,
        err.getString("code", "error"),
        err.getString("message", "request failed"),
        err.getString("field"));
  }

  /** {@code base} (no trailing slash) + {@code path}. */
  public static URI resolve(String base, String path) {
    return URI.create(base.replaceAll("/+$", "") + path);
  }
}
