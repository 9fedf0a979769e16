package dev.umbra.controlplane.webapp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What {@link WebApp#load} serves and what refuses the start (docs/web.md, "Design"). */
class WebAppTest {

  /** A class path holding only {@code files} under the app's root. */
  static ClassLoader app(Map<String, String> files) {
    return new ClassLoader(null) {
      @Override
      public InputStream getResourceAsStream(String name) {
        String f =
            name.startsWith(WebApp.ROOT) ? files.get(name.substring(WebApp.ROOT.length())) : null;
        return f == null ? null : new ByteArrayInputStream(f.getBytes(StandardCharsets.UTF_8));
      }
    };
  }

  @Test
  void servesThePageAndExactlyTheFilesItNamesEachWithItsHash() throws Exception {
    WebApp w =
        WebApp.load(
            app(
                Map.of(
                    "index.html",
                    "<link rel=\"modulepreload\" href=\"js/a.js\"><script type=\"module\" src=\"js/main.js\"></script>",
                    "js/a.js",
                    "export const a = 1;",
                    "js/main.js",
                    "import { a } from './a.js';",
                    "js/unlisted.js",
                    "window.x = 1;")));
    assertThat(w.assets()).containsOnlyKeys("index.html", "js/a.js", "js/main.js");
    String page = new String(w.assets().get("index.html").bytes(), StandardCharsets.UTF_8);
    String hash =
        "sha384-"
            + Base64.getEncoder()
                .encodeToString(
                    WebApp.sha384("export const a = 1;".getBytes(StandardCharsets.UTF_8)));
    assertThat(page).contains("href=\"js/a.js\" integrity=\"" + hash + "\">");
    assertThat(w.assets().get("js/a.js").integrity()).isEqualTo(hash);
  }

  @Test
  void refusesToStartWithAScriptOfAnotherOriginOrOutsideTheApp() {
    for (String ref :
        new String[] {
          "https://cdn.example/x.js", "//cdn.example/x.js", "/v1/x.js", "../x.js", "js/../../x.js"
        }) {
      assertThatThrownBy(
              () -> WebApp.load(app(Map.of("index.html", "<script src=\"" + ref + "\"></script>"))))
          .as(ref)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(ref);
    }
  }

  @Test
  void refusesAnIntegrityItDidNotComputeAndAMissingFile() {
    assertThatThrownBy(
            () ->
                WebApp.load(
                    app(
                        Map.of(
                            "index.html",
                                "<script src=\"js/a.js\" integrity=\"sha384-x\"></script>",
                            "js/a.js", ""))))
        .hasMessageContaining("integrity");
    assertThatThrownBy(
            () -> WebApp.load(app(Map.of("index.html", "<script src=\"js/gone.js\"></script>"))))
        .hasMessageContaining("js/gone.js is missing");
  }

  @Test
  void connectSrcListsExactlyThePlatformsPublicOriginsAsHttpAndWebSocket() {
    List<String> origins =
        WebApp.connectOrigins(
            List.of(
                URI.create("http://127.0.0.1:8080"),
                URI.create("http://127.0.0.1:8083/"),
                URI.create("https://Umbra.Example/audit"),
                URI.create("https://umbra.example/relay")));
    assertThat(origins)
        .containsExactly(
            "http://127.0.0.1:8080",
            "ws://127.0.0.1:8080",
            "http://127.0.0.1:8083",
            "ws://127.0.0.1:8083",
            "https://umbra.example",
            "wss://umbra.example");
    assertThat(WebApp.csp(origins))
        .contains(
            "; connect-src 'self' http://127.0.0.1:8080 ws://127.0.0.1:8080 http://127.0.0.1:8083"
                + " ws://127.0.0.1:8083 https://umbra.example wss://umbra.example; ");
    assertThat(WebApp.csp(List.of())).contains("; connect-src 'self'; ");
  }

  @Test
  void aPublicUrlThatIsNotAPlainHttpOriginRefusesTheStart() {
    for (String url :
        new String[] {"ftp://umbra.example", "javascript:alert(1)", "http://u:p@umbra.example"}) {
      assertThatThrownBy(() -> WebApp.connectOrigins(List.of(URI.create(url))))
          .as(url)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("not an http(s) URL");
    }
  }
}
