package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.junit5.VertxExtension;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
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
        documented.add(method.toUpperCase(Locale.ROOT) + " " + path.replaceAll("\\{([a-z_]+)}", ":$1"));
      }
    }
    Set<String> mounted = new TreeSet<>();
    for (Route r : h.service.router().getRoutes()) {
      String p = r.getPath();
      if (p == null || !(p.startsWith("/v1/") || p.startsWith("/internal/") || p.startsWith("/.well-known/"))) {
        continue;
      }
      for (HttpMethod m : r.methods()) {
        mounted.add(m.name() + " " + p);
      }
    }
    assertThat(mounted).isNotEmpty();
    assertThat(documented).isEqualTo(mounted);
  }

  @Test
  void everyDocumentedOperationAnswersWithItsOwnHandler() {
    JsonObject paths = h.call("GET", "/v1/openapi.json", null, null).body().getJsonObject("paths");
    String uuid = "00000000-0000-7000-8000-000000000001";
    for (String path : paths.fieldNames()) {
      for (String method : paths.getJsonObject(path).fieldNames()) {
        String concrete = path.replaceAll("\\{[a-z_]+}", uuid);
        Harness.Response r = h.call(method.toUpperCase(Locale.ROOT), concrete, null, method.equals("get") || method.equals("delete") ? null : new JsonObject());
        String message = r.body().getJsonObject("error") == null ? "" : r.body().getJsonObject("error").getString("message", "");
        assertThat(message).as(method + " " + path).doesNotStartWith("route ");
      }
    }
  }
}
