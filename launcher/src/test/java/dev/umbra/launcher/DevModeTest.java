package dev.umbra.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestPostgres;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `umbra dev` in a real child JVM: reaches ready with all five services healthy, stops with 0. */
class DevModeTest {
  @TempDir Path tmp;

  private static JsonArray machines(Path home) {
    String[] args = {"machines", "list", "--json"};
    return UmbraRun.of(home, System.getenv(), List.of(), args).assertOk(args).array();
  }

  @Test
  void reachesReadyWithAllFiveServicesHealthyAndStopsCleanly() throws Exception {
    Path home = tmp.resolve("home");
    Map<String, Integer> ports = ChildJvm.freeServicePorts();
    try (TestPostgres pg = TestPostgres.createDatabase()) {
      // the test PostgreSQL here; the embedded server (as root too) is EmbeddedDevModeTest's
      Map<String, String> env = ChildJvm.devEnv(home, pg.url(), ports);
      try (ChildJvm dev = ChildJvm.start("dev.umbra.launcher.Umbra", env, "dev")) {
        String ready = dev.awaitLine(l -> l.startsWith(DevMode.READY + " in "), 90);
        assertThat(ready).contains("http://127.0.0.1:" + ports.get("CONTROL_PLANE"));
        String appUrl = "http://127.0.0.1:" + ports.get("CONTROL_PLANE") + "/app/";
        assertThat(ready).contains("web app at " + appUrl);
        assertThat(dev.output()).contains("bus: in-process");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (Map.Entry<String, Integer> e : ports.entrySet()) {
          HttpResponse<String> r =
              http.send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + e.getValue() + "/healthz"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          assertThat(r.statusCode()).as(e.getKey() + ": " + r.body()).isEqualTo(200);
        }
        HttpResponse<String> page =
            http.send(
                HttpRequest.newBuilder(URI.create(appUrl)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-security-policy").orElse(""))
            .contains("frame-ancestors 'none'");
        assertThat(Files.getPosixFilePermissions(home))
            .isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(dev.output()).contains("CLI logged in to workspace 'dev' as a trusted device");
        JsonArray machines = machines(home);
        assertThat(machines).hasSize(1);
        assertThat(machines.getJsonObject(0).getString("name")).isEqualTo("local");
        // the local daemon reports its state for `umbra daemon status` (docs/deploy.md, "Status")
        Eventually.await(
            "umbra daemon status: running, checked in, relay and engine connected",
            Duration.ofSeconds(60),
            () -> {
              UmbraRun st =
                  UmbraRun.of(home, Map.of(), Cli.commands(), "daemon", "status", "--json");
              if (st.code() != 0) {
                return false;
              }
              JsonObject b = st.json().getJsonArray("bindings").getJsonObject(0);
              return b.getString("name").equals("local")
                  && b.getBoolean("checked_in", false)
                  && b.getBoolean("relay_connected", false)
                  && b.getBoolean("engine_connected", false);
            });
        assertThat(dev.terminate(15)).as(dev.output()).isZero();
      }
      // warm start: same data, same login, the same paired machine, ready well within 20 s
      long t0 = System.nanoTime();
      try (ChildJvm dev = ChildJvm.start("dev.umbra.launcher.Umbra", env, "dev")) {
        dev.awaitLine(l -> l.startsWith(DevMode.READY + " in "), 60);
        assertThat((System.nanoTime() - t0) / 1e9).isLessThan(20);
        assertThat(machines(home)).hasSize(1);
        assertThat(dev.terminate(15)).as(dev.output()).isZero();
      }
    }
  }
}
