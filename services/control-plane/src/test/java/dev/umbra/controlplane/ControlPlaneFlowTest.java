package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class ControlPlaneFlowTest {
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
  void bootstrapTokenIsPrintedOnceAndWorksOnce() {
    assertThat(h.bootstrapToken).startsWith("umbb_");
    Harness.Owner owner = h.bootstrap("dev");
    assertThat(owner.token()).startsWith("umb_").hasSize(63);
    Harness.Response again =
        h.call("POST", "/v1/bootstrap", null, new JsonObject().put("token", h.bootstrapToken));
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.errorCode()).isEqualTo("already_bootstrapped");
  }

  @Test
  void ofConcurrentBootstrapsExactlyOneWins() throws Exception {
    var pool = java.util.concurrent.Executors.newFixedThreadPool(10);
    var results = new java.util.ArrayList<java.util.concurrent.Future<Integer>>();
    for (int i = 0; i < 10; i++) {
      results.add(
          pool.submit(
              () ->
                  h.call(
                          "POST",
                          "/v1/bootstrap",
                          null,
                          new JsonObject().put("token", h.bootstrapToken))
                      .status()));
    }
    int won = 0;
    for (var f : results) {
      won += f.get() == 201 ? 1 : 0;
    }
    pool.shutdown();
    assertThat(won).isEqualTo(1);
  }

  @Test
  void discoveryNamesEveryServiceAndTheKeySet() {
    JsonObject d = h.call("GET", "/v1/discovery", null, null).body();
    assertThat(d.getJsonObject("services").fieldNames())
        .containsExactlyInAnyOrder("control-plane", "relay", "pairing", "audit", "webtty-engine");
    assertThat(d.getString("jwks_url")).endsWith("/.well-known/jwks.json");
  }

  @Test
  void wrongBootstrapTokenIsRefused() {
    Harness.Response r =
        h.call("POST", "/v1/bootstrap", null, new JsonObject().put("token", "umbb_wrong"));
    assertThat(r.status()).isEqualTo(401);
  }

  @Test
  void aTokenThatJustWorkedDoesNotLetAnotherSecretWithItsLookupIdIn() {
    // the control plane remembers recent successes (Authenticator, VerificationMemo): only for the
    // exact secret
    Harness.Owner o = h.bootstrap("dev");
    assertThat(h.call("GET", "/v1/me", o.token(), null).status()).isEqualTo(200);
    String token = o.token();
    char last = token.charAt(token.length() - 1);
    String forged = token.substring(0, token.length() - 1) + (last == 'A' ? 'B' : 'A');
    assertThat(h.call("GET", "/v1/me", forged, null).status()).isEqualTo(401);
    assertThat(h.call("GET", "/v1/me", token, null).status()).isEqualTo(200);
  }

  @Test
  void ownerCreatesTokensWorkspacesAndSeesMachines() {
    Harness.Owner o = h.bootstrap("dev");
    Harness.Response me = h.call("GET", "/v1/me", o.token(), null);
    assertThat(me.status()).isEqualTo(200);
    assertThat(me.body().getString("name")).isEqualTo("alice");

    Harness.Response tok =
        h.call("POST", "/v1/tokens", o.token(), new JsonObject().put("name", "ci"));
    assertThat(tok.status()).isEqualTo(201);
    String second = tok.body().getString("token");
    assertThat(h.call("GET", "/v1/me", second, null).status()).isEqualTo(200);
    Harness.Response list = h.call("GET", "/v1/tokens", o.token(), null);
    assertThat(list.body().getJsonArray("items")).hasSize(2);
    assertThat(list.body().encode()).doesNotContain(second).doesNotContain(o.token());

    assertThat(
            h.call("DELETE", "/v1/tokens/" + tok.body().getString("id"), o.token(), null).status())
        .isEqualTo(204);
    assertThat(h.call("GET", "/v1/me", second, null).status()).isEqualTo(401);

    Harness.Response ws =
        h.call("POST", "/v1/workspaces", o.token(), new JsonObject().put("name", "prod"));
    assertThat(ws.status()).isEqualTo(201);
    assertThat(h.call("GET", "/v1/workspaces", o.token(), null).body().getJsonArray("items"))
        .hasSize(2);

    assertThat(h.createMachine(o.workspaceId(), "laptop").status()).isEqualTo(201);
    Harness.Response machines =
        h.call("GET", "/v1/workspaces/" + o.workspaceId() + "/machines", o.token(), null);
    assertThat(machines.status()).isEqualTo(200);
    assertThat(machines.body().getJsonArray("items")).hasSize(1);
    assertThat(machines.body().getJsonArray("items").getJsonObject(0).getString("name"))
        .isEqualTo("laptop");
  }

  @Test
  void validationNamesTheField() {
    Harness.Owner o = h.bootstrap("dev");
    Harness.Response r =
        h.call("POST", "/v1/workspaces", o.token(), new JsonObject().put("name", "x".repeat(65)));
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.errorField()).isEqualTo("name");
    r = h.call("GET", "/v1/workspaces/not-a-uuid/machines", o.token(), null);
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.errorField()).isEqualTo("workspace_id");
    r =
        h.call(
            "POST",
            "/v1/workspaces",
            o.token(),
            new JsonObject().put("name", "ok").put("extra", 1));
    assertThat(r.errorField()).isEqualTo("extra");
    r = h.call("GET", "/v1/workspaces?limit=0", o.token(), null);
    assertThat(r.errorField()).isEqualTo("limit");
    r = h.call("POST", "/v1/workspaces", o.token(), "[1,2");
    assertThat(r.status()).isEqualTo(400);
  }
}
