package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class ConfiguredBootstrapTest {
  static final String TOKEN = "an-operator-chosen-bootstrap-token-of-40-chars";

  @Test
  void aConfiguredBootstrapTokenIsUsedAndNeverPrinted(Vertx vertx) throws Exception {
    try (Harness h = new Harness(vertx, Map.of("UMBRA_BOOTSTRAP_TOKEN", TOKEN))) {
      assertThat(h.bootstrapToken).isNull();
      Harness.Response r =
          h.call(
              "POST",
              "/v1/bootstrap",
              null,
              new JsonObject().put("token", TOKEN).put("workspace_name", "dev"));
      assertThat(r.status()).isEqualTo(201);
      assertThat(r.body().getJsonObject("workspace").getString("name")).isEqualTo("dev");
      assertThat(r.body().getJsonObject("workspace").getString("role")).isEqualTo("owner");
    }
  }
}
