package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.webapp.WebApp;
import dev.umbra.kit.config.ServiceName;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The control plane serves the browser app at /app/ with its security headers, and every script and
 * style the page loads carries the SRI hash of exactly the bytes served (docs/web.md). The
 * browser's side of the same rules is tested in real Chromium (tests/e2e, dev.umbra.web).
 */
@ExtendWith(VertxExtension.class)
class WebAppServingTest {
  private static final Pattern TAG =
      Pattern.compile("<(script|link)\\b[^>]*\\s(src|href)=\"([^\"]*)\"[^>]*>");
  private static final Pattern INTEGRITY = Pattern.compile("integrity=\"(sha384-[^\"]+)\"");
  Harness h;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    h = new Harness(vertx, Map.of());
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  HttpResponse<byte[]> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(h.base.resolve(path)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void thePageAndEveryFileItLoadsCarryTheSecurityHeaders() throws Exception {
    HttpResponse<byte[]> page = get("/app/");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
    assertThat(page.headers().firstValue("cache-control")).hasValue("no-store");
    List<String> paths = new ArrayList<>(List.of("/app/", "/app/no-such-file.js"));
    Matcher m = TAG.matcher(new String(page.body(), StandardCharsets.UTF_8));
    while (m.find()) {
      paths.add("/app/" + m.group(3));
    }
    assertThat(paths).contains("/app/js/main.js", "/app/app.css");
    // connect-src: its own origin and exactly the origins of the discovery document's services
    JsonObject services =
        new JsonObject(new String(get("/v1/discovery").body(), StandardCharsets.UTF_8))
            .getJsonObject("services");
    Set<String> origins = new LinkedHashSet<>();
    for (ServiceName s : ServiceName.values()) {
      URI u = URI.create(services.getString(s.id()));
      origins.add("http://" + u.getHost() + ":" + u.getPort());
      origins.add("ws://" + u.getHost() + ":" + u.getPort());
    }
    assertThat(origins).hasSize(2 * ServiceName.values().length);
    String connectSrc = "'self' " + String.join(" ", origins);
    for (String path : paths) {
      HttpResponse<byte[]> r = get(path);
      String csp = r.headers().firstValue("content-security-policy").orElse("");
      assertThat(csp)
          .as(path)
          .contains("default-src 'none'")
          .contains("script-src 'self'")
          .contains("frame-ancestors 'none'")
          .contains("form-action 'none'")
          .contains("require-trusted-types-for 'script'")
          .doesNotContain("unsafe-inline")
          .doesNotContain("unsafe-eval")
          .contains("; connect-src " + connectSrc + "; ");
      assertThat(r.headers().firstValue("x-content-type-options")).as(path).hasValue("nosniff");
      assertThat(r.headers().firstValue("referrer-policy")).as(path).hasValue("no-referrer");
      assertThat(r.headers().firstValue("x-frame-options")).as(path).hasValue("DENY");
      assertThat(r.headers().firstValue("set-cookie")).as(path).isEmpty();
    }
  }

  @Test
  void everyScriptAndStyleOfThePageHasTheSriHashOfTheBytesServed() throws Exception {
    String page = new String(get("/app/").body(), StandardCharsets.UTF_8);
    Matcher m = TAG.matcher(page);
    int checked = 0;
    while (m.find()) {
      Matcher sri = INTEGRITY.matcher(m.group());
      assertThat(sri.find()).as("integrity on " + m.group()).isTrue();
      HttpResponse<byte[]> file = get("/app/" + m.group(3));
      assertThat(file.statusCode()).isEqualTo(200);
      String expected =
          "sha384-"
              + Base64.getEncoder()
                  .encodeToString(MessageDigest.getInstance("SHA-384").digest(file.body()));
      assertThat(sri.group(1)).as(m.group(3)).isEqualTo(expected);
      checked++;
    }
    assertThat(checked).isEqualTo(WebApp.load(getClass().getClassLoader()).assets().size() - 1);
    assertThat(page)
        .doesNotContain("<script>")
        .doesNotContainPattern("\\son[a-z]+="); // no inline script or handler
  }

  @Test
  void servesOnlyThePageAndTheFilesItNames() throws Exception {
    assertThat(get("/app/no-such-file.js").statusCode()).isEqualTo(404);
    assertThat(get("/app/%2e%2e/%2e%2e/pom.xml").statusCode()).isEqualTo(404);
    assertThat(get("/app/index.html").statusCode()).isEqualTo(200);
    HttpResponse<byte[]> bare = get("/app");
    assertThat(bare.statusCode()).isEqualTo(301);
    assertThat(bare.headers().firstValue("location")).hasValue("/app/");
    HttpResponse<byte[]> root = get("/");
    assertThat(root.statusCode()).as("the control plane's address in a browser").isEqualTo(302);
    assertThat(root.headers().firstValue("location")).hasValue("/app/");
    assertThat(get("/v1/no-such-route").statusCode()).as("only / itself").isEqualTo(404);
    HttpResponse<byte[]> js = get("/app/js/main.js");
    assertThat(js.headers().firstValue("content-type")).hasValue("text/javascript; charset=utf-8");
  }
}
