package dev.umbra.controlplane;

import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.Schema;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.OutputFormat;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.Validator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Validates real traffic against the OpenAPI document's schemas (JSON Schema 2020-12): every
 * response a test receives from an API path must be the documented success body of its route (at
 * its documented status) or the one error shape; and a request the server accepted must satisfy the
 * route's request schema (a schema stricter than the server is as wrong as a looser one). A
 * mismatch fails the call at once and, in case the call ran on another thread, again when the
 * harness closes.
 */
final class SchemaCheck {
  private static final JsonSchemaOptions OPTIONS =
      new JsonSchemaOptions()
          .setDraft(Draft.DRAFT202012)
          .setBaseUri("https://umbra.invalid/")
          .setOutputFormat(OutputFormat.Basic);

  private final ApiRoutes routes;
  private final Map<JsonObject, Validator> validators = new ConcurrentHashMap<>();
  private final List<String> mismatches = java.util.Collections.synchronizedList(new ArrayList<>());

  SchemaCheck(ApiRoutes routes) {
    this.routes = routes;
  }

  void check(String method, String rawPath, Object sent, int status, String body) {
    String path = rawPath.contains("?") ? rawPath.substring(0, rawPath.indexOf('?')) : rawPath;
    if (!(path.startsWith("/v1/")
        || path.startsWith("/internal/")
        || path.startsWith("/.well-known/"))) {
      return; // the kit's /healthz, /metrics, /admin/logs: not part of this API
    }
    Optional<ApiRoutes.Op> op = routes.match(method, path);
    String where = method + " " + path + " → " + status;
    if (status >= 400 || op.isEmpty()) {
      validate(where + " (error)", ApiRoutes.ERROR, parse(where, body));
      return;
    }
    ApiRoutes.Op o = op.get();
    if (status != o.okStatus()) {
      fail(where + ": the document gives " + o.okStatus() + " for " + o.method() + " " + o.path());
      return;
    }
    if (o.response() == null || o.request() == null) {
      fail(where + ": " + o.method() + " " + o.path() + " has no schemas");
      return;
    }
    if (o.response().isNone()) {
      if (body != null && !body.isEmpty()) {
        fail(where + ": documented without a body, got " + abbreviate(body));
      }
    } else {
      validate(where, o.response(), parse(where, body));
    }
    if (!o.request().isNone() && sent != null) {
      Object req = sent instanceof JsonObject j ? j : parse(where + " (request)", sent.toString());
      validate(where + " (request accepted by the server)", o.request(), req);
    }
  }

  private Object parse(String where, String body) {
    try {
      return Json.decodeValue(body == null ? "" : body);
    } catch (DecodeException e) {
      fail(where + ": not JSON: " + abbreviate(body));
      return null;
    }
  }

  private void validate(String where, Schema schema, Object value) {
    if (value == null && mismatches.stream().anyMatch(m -> m.startsWith(where))) {
      return;
    }
    Validator v =
        validators.computeIfAbsent(
            schema.inline(), s -> Validator.create(JsonSchema.of(s), OPTIONS));
    OutputUnit out = v.validate(value);
    if (!Boolean.TRUE.equals(out.getValid())) {
      StringBuilder why = new StringBuilder();
      if (out.getErrors() != null) {
        out.getErrors()
            .forEach(
                e ->
                    why.append("\n    ")
                        .append(e.getInstanceLocation())
                        .append(": ")
                        .append(e.getError()));
      }
      fail(where + ": does not match its schema: " + abbreviate(String.valueOf(value)) + why);
    }
  }

  private void fail(String message) {
    mismatches.add(message);
    throw new AssertionError("OpenAPI mismatch: " + message);
  }

  /** For a test that provokes mismatches on purpose. */
  void forgetMismatches() {
    mismatches.clear();
  }

  void assertNoMismatch() {
    if (!mismatches.isEmpty()) {
      throw new AssertionError("OpenAPI mismatches:\n  " + String.join("\n  ", mismatches));
    }
  }

  private static String abbreviate(String s) {
    return s == null ? "null" : s.length() > 400 ? s.substring(0, 400) + "..." : s;
  }
}
