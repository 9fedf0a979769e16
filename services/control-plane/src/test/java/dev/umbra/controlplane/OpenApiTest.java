package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class OpenApiTest {
  Harness h;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    h = new Harness(vertx, Map.of());
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  @Test
  void documentListsExactlyTheMountedApiRoutes() {
    Harness.Response doc = h.call("GET", "/v1/openapi.json", null, null);
    assertThat(doc.status()).isEqualTo(200);
    assertThat(doc.body().getString("openapi")).startsWith("3.");
    Set<String> documented = new TreeSet<>();
    JsonObject paths = doc.body().getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      for (String method : paths.getJsonObject(path).fieldNames()) {
        documented.add(
            method.toUpperCase(Locale.ROOT) + " " + path.replaceAll("\\{([a-z_]+)}", ":$1"));
      }
    }
    Set<String> mounted = new TreeSet<>();
    for (Route r : h.service.router().getRoutes()) {
      String p = r.getPath();
      if (p == null
          || !(p.startsWith("/v1/")
              || p.startsWith("/internal/")
              || p.startsWith("/.well-known/"))) {
        continue;
      }
      for (HttpMethod m : r.methods()) {
        mounted.add(m.name() + " " + p);
      }
    }
    assertThat(mounted).isNotEmpty();
    assertThat(documented).isEqualTo(mounted);
  }

  /**
   * Every path the clients build from {@link ControlPlanePaths} is a route this router mounts and
   * documents.
   */
  @Test
  void everySharedPathTemplateIsAMountedRoute() {
    Set<String> mounted = new TreeSet<>();
    for (Route r : h.service.router().getRoutes()) {
      if (r.getPath() != null) {
        mounted.add(r.getPath().replaceAll(":([a-z_]+)", "{$1}"));
      }
    }
    assertThat(ControlPlanePaths.all()).hasSizeGreaterThan(40);
    assertThat(mounted).containsAll(ControlPlanePaths.all());
  }

  /**
   * Walks the routes actually mounted on the router: each must be documented with a summary, its
   * success answer's schema (none only for a 204), the error shape, and, when the route was
   * registered as reading a body, the request body's schema. A route added without schemas (the
   * six-argument {@code add}) fails here by name.
   */
  @Test
  void everyMountedRouteHasASummaryARequestSchemaWhereItReadsABodyAndResponseSchemas() {
    JsonObject doc = h.call("GET", "/v1/openapi.json", null, null).body();
    JsonObject paths = doc.getJsonObject("paths");
    JsonObject components = doc.getJsonObject("components").getJsonObject("schemas");
    List<String> missing = new ArrayList<>();
    int walked = 0;
    for (Route r : h.service.router().getRoutes()) {
      String p = r.getPath();
      if (p == null
          || !(p.startsWith("/v1/") || p.startsWith("/internal/") || p.startsWith("/.well-known/"))
          || r.methods() == null) {
        continue;
      }
      String template = p.replaceAll(":([a-z_]+)", "{$1}");
      for (HttpMethod m : r.methods()) {
        walked++;
        String name = m.name() + " " + template;
        ApiRoutes.Op op =
            h.service.routes().ops().stream()
                .filter(o -> o.method().equals(m) && o.path().equals(template))
                .findFirst()
                .orElse(null);
        JsonObject operation =
            paths.getJsonObject(template) == null
                ? null
                : paths.getJsonObject(template).getJsonObject(m.name().toLowerCase(Locale.ROOT));
        if (op == null || operation == null) {
          missing.add(name + ": not in the document");
          continue;
        }
        if (operation.getString("summary", "").isBlank()) {
          missing.add(name + ": no summary");
        }
        if (op.request() == null) {
          missing.add(name + ": no request schema (Schema.NO_BODY if it reads none)");
        } else if (!op.request().isNone() && operation.getJsonObject("requestBody") == null) {
          missing.add(name + ": reads a body the document does not describe");
        }
        JsonObject ok =
            operation.getJsonObject("responses").getJsonObject(String.valueOf(op.okStatus()));
        if (op.response() == null) {
          missing.add(name + ": no response schema");
        } else if (op.okStatus() != 204 && (ok == null || ok.getJsonObject("content") == null)) {
          missing.add(name + ": success answer without a schema");
        }
        JsonObject error = operation.getJsonObject("responses").getJsonObject("default");
        if (error == null || !error.encode().contains("#/components/schemas/Error")) {
          missing.add(name + ": no error shape");
        }
      }
    }
    assertThat(walked).isGreaterThan(50);
    Matcher refs = Pattern.compile("\"#/components/schemas/([A-Za-z0-9]+)\"").matcher(doc.encode());
    while (refs.find()) {
      if (!components.containsKey(refs.group(1))) {
        missing.add("dangling $ref " + refs.group(1));
      }
    }
    assertThat(missing).isEmpty();
  }

  /** The schemas are not vacuous: a body that misses a required member or adds one is refused. */
  @Test
  void theSchemasRefuseBodiesTheyDoNotDescribe() {
    Harness.Owner owner = h.bootstrap("schemas");
    Harness.Response ws =
        h.call("GET", "/v1/workspaces/" + owner.workspaceId(), owner.token(), null);
    assertThat(ws.status()).isEqualTo(200);
    String path = "/v1/workspaces/" + owner.workspaceId();
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                h.responses.check(
                    "GET", path, null, 200, ws.body().copy().put("unexpected", 1).encode()))
        .hasMessageContaining("does not match its schema");
    JsonObject withoutName = ws.body().copy();
    withoutName.remove("name");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> h.responses.check("GET", path, null, 200, withoutName.encode()))
        .hasMessageContaining("does not match its schema");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> h.responses.check("GET", path, null, 404, "{\"error\":{\"message\":\"x\"}}"))
        .hasMessageContaining("(error)");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> h.responses.check("GET", path, null, 201, ws.body().encode()))
        .hasMessageContaining("the document gives 200");
    h.responses.forgetMismatches(); // the refusals above were the point of this test
  }

  @Test
  void everyDocumentedOperationAnswersWithItsOwnHandler() {
    JsonObject paths = h.call("GET", "/v1/openapi.json", null, null).body().getJsonObject("paths");
    String uuid = "00000000-0000-7000-8000-000000000001";
    for (String path : paths.fieldNames()) {
      for (String method : paths.getJsonObject(path).fieldNames()) {
        String concrete = path.replaceAll("\\{[a-z_]+}", uuid);
        Harness.Response r =
            h.call(
                method.toUpperCase(Locale.ROOT),
                concrete,
                null,
                method.equals("get") || method.equals("delete") ? null : new JsonObject());
        String message =
            r.body().getJsonObject("error") == null
                ? ""
                : r.body().getJsonObject("error").getString("message", "");
        assertThat(message).as(method + " " + path).doesNotStartWith("route ");
      }
    }
  }
}
