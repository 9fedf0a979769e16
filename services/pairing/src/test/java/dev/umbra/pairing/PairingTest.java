package dev.umbra.pairing;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class PairingTest {
  PairingHarness h;
  final UUID workspace = UUID.randomUUID();

  PairingHarness start(Vertx vertx, Map<String, String> env) throws Exception {
    h = new PairingHarness(vertx, env);
    return h;
  }

  @AfterEach
  void stop() throws Exception {
    if (h != null) {
      h.close();
    }
  }

  @Test
  void adminCreatesListsAndCancelsCodes(Vertx vertx) throws Exception {
    start(vertx, Map.of());
    JsonObject created = h.createCode(workspace, false);
    assertThat(created.getString("code")).hasSize(26);
    PairingHarness.Response list =
        h.call("GET", "/v1/workspaces/" + workspace + "/codes", h.admin(workspace), null);
    assertThat(list.body().getJsonArray("items")).hasSize(1);
    assertThat(list.body().encode()).doesNotContain(created.getString("code"));
    String id = created.getString("id");
    assertThat(
            h.call(
                    "DELETE",
                    "/v1/workspaces/" + workspace + "/codes/" + id,
                    h.admin(workspace),
                    null)
                .status())
        .isEqualTo(204);
    assertThat(
            h.call("GET", "/v1/workspaces/" + workspace + "/codes", h.admin(workspace), null)
                .body()
                .getJsonArray("items"))
        .isEmpty();
    PairingHarness.Response redeem =
        h.call("POST", "/v1/redeem", null, PairingHarness.redemption(created.getString("code")));
    assertThat(redeem.code()).isEqualTo("invalid_code");
  }

  @Test
  void pendingCodesPageWithACursor(Vertx vertx) throws Exception {
    start(vertx, Map.of());
    for (int i = 0; i < 3; i++) {
      h.createCode(workspace, false);
    }
    String path = "/v1/workspaces/" + workspace + "/codes?limit=2";
    PairingHarness.Response first = h.call("GET", path, h.admin(workspace), null);
    assertThat(first.body().getJsonArray("items")).hasSize(2);
    String cursor = first.body().getString("next_cursor");
    PairingHarness.Response second =
        h.call("GET", path + "&cursor=" + cursor, h.admin(workspace), null);
    assertThat(second.body().getJsonArray("items")).hasSize(1);
    assertThat(second.body().getString("next_cursor")).isNull();
    assertThat(
            h.call("GET", path + "&cursor=x", h.admin(workspace), null)
                .body()
                .getJsonObject("error")
                .getString("field"))
        .isEqualTo("cursor");
    assertThat(
            h.call(
                    "GET",
                    "/v1/workspaces/" + workspace + "/codes?limit=500",
                    h.admin(workspace),
                    null)
                .status())
        .isEqualTo(400);
  }

  @Test
  void daemonRedeemsOnceAndGetsWhatItNeedsToConnect(Vertx vertx) throws Exception {
    start(vertx, Map.of());
    String code = h.createCode(workspace, false).getString("code");
    PairingHarness.Response r =
        h.call("POST", "/v1/redeem", null, PairingHarness.redemption(code.toLowerCase()));
    assertThat(r.status()).isEqualTo(201);
    assertThat(r.body().getString("workspace_id")).isEqualTo(workspace.toString());
    assertThat(r.body().getString("machine_id")).isNotBlank();
    assertThat(r.body().getJsonObject("services").getString("relay")).startsWith("http");
    assertThat(h.machinesCreated).hasSize(1);
    assertThat(h.machinesCreated.get(0).getString("x25519_public_key")).isEqualTo("ab".repeat(32));
    PairingHarness.Response again =
        h.call("POST", "/v1/redeem", null, PairingHarness.redemption(code));
    assertThat(again.status()).isEqualTo(404);
    assertThat(again.code()).isEqualTo("invalid_code");
  }

  @Test
  void unknownUsedAndExpiredCodesGetTheSameAnswer(Vertx vertx) throws Exception {
    start(vertx, Map.of());
    String used = h.createCode(workspace, false).getString("code");
    h.call("POST", "/v1/redeem", null, PairingHarness.redemption(used));
    String expiring = h.createCode(workspace, false).getString("code");
    h.clock.advance(Duration.ofMinutes(15).plusSeconds(1));
    PairingHarness.Response unknown =
        h.call("POST", "/v1/redeem", null, PairingHarness.redemption("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
    PairingHarness.Response again =
        h.call("POST", "/v1/redeem", null, PairingHarness.redemption(used));
    PairingHarness.Response expired =
        h.call("POST", "/v1/redeem", null, PairingHarness.redemption(expiring));
    PairingHarness.Response garbage =
        h.call("POST", "/v1/redeem", null, PairingHarness.redemption("not a code"));
    for (PairingHarness.Response r : List.of(unknown, again, expired, garbage)) {
      assertThat(r.status()).isEqualTo(404);
      assertThat(r.body()).isEqualTo(unknown.body());
    }
  }

  @Test
  void codeIsValidForFifteenMinutes(Vertx vertx) throws Exception {
    start(vertx, Map.of());
    String code = h.createCode(workspace, false).getString("code");
    h.clock.advance(Duration.ofMinutes(14).plusSeconds(59));
    assertThat(h.call("POST", "/v1/redeem", null, PairingHarness.redemption(code)).status())
        .isEqualTo(201);
  }

  @Test
  void ofFiftyConcurrentRedemptionsExactlyOneWins(Vertx vertx) throws Exception {
    start(vertx, Map.of("UMBRA_PAIRING_MAX_FAILURES", "1000"));
    String code = h.createCode(workspace, false).getString("code");
    ExecutorService pool = Executors.newFixedThreadPool(50);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Integer>> results = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      Callable<Integer> c =
          () -> {
            go.await();
            return h.call("POST", "/v1/redeem", null, PairingHarness.redemption(code)).status();
          };
      results.add(pool.submit(c));
    }
    go.countDown();
    int won = 0;
    int lost = 0;
    for (Future<Integer> f : results) {
      int s = f.get();
      if (s == 201) {
        won++;
      } else if (s == 404) {
        lost++;
      }
    }
    pool.shutdown();
    assertThat(won).isEqualTo(1);
    assertThat(lost).isEqualTo(49);
    assertThat(h.machinesCreated).hasSize(1);
  }

  @Test
  void pskRequiredWrongAndRight(Vertx vertx) throws Exception {
    start(vertx, Map.of());
    PairingHarness.Response noPsk =
        h.call(
            "POST",
            "/v1/workspaces/" + workspace + "/codes",
            h.admin(workspace),
            new JsonObject().put("require_psk", true));
    assertThat(noPsk.code()).isEqualTo("no_psk");
    String psk = "correct horse battery staple";
    assertThat(
            h.call(
                    "PUT",
                    "/v1/workspaces/" + workspace + "/psk",
                    h.admin(workspace),
                    new JsonObject().put("psk", psk))
                .status())
        .isEqualTo(204);
    String code = h.createCode(workspace, true).getString("code");
    PairingHarness.Response missing =
        h.call("POST", "/v1/redeem", null, PairingHarness.redemption(code));
    assertThat(missing.status()).isEqualTo(401);
    assertThat(missing.code()).isEqualTo("invalid_psk");
    PairingHarness.Response wrong =
        h.call(
            "POST",
            "/v1/redeem",
            null,
            PairingHarness.redemption(code).put("psk", "wrong horse battery staple"));
    assertThat(wrong.code()).isEqualTo("invalid_psk");
    PairingHarness.Response right =
        h.call("POST", "/v1/redeem", null, PairingHarness.redemption(code).put("psk", psk));
    assertThat(right.status()).isEqualTo(201);
    assertThat(right.body().getBoolean("psk_required")).isTrue();
  }

  @Test
  void guessesAreRateLimitedPerIp(Vertx vertx) throws Exception {
    start(vertx, Map.of("UMBRA_PAIRING_MAX_FAILURES", "3"));
    String code = h.createCode(workspace, false).getString("code");
    for (int i = 0; i < 3; i++) {
      assertThat(
              h.call(
                      "POST",
                      "/v1/redeem",
                      null,
                      PairingHarness.redemption("01ARZ3NDEKTSV4RRFFQ69G5FA" + i))
                  .status())
          .isEqualTo(404);
    }
    PairingHarness.Response limited =
        h.call("POST", "/v1/redeem", null, PairingHarness.redemption(code));
    assertThat(limited.status()).isEqualTo(429);
    assertThat(h.machinesCreated).isEmpty();
    h.clock.advance(Duration.ofMinutes(14));
    assertThat(h.call("POST", "/v1/redeem", null, PairingHarness.redemption(code)).status())
        .isEqualTo(429);
    h.clock.advance(Duration.ofSeconds(61));
    // the 15-minute window has passed (and with it the first code's validity)
    String fresh = h.createCode(workspace, false).getString("code");
    assertThat(h.call("POST", "/v1/redeem", null, PairingHarness.redemption(fresh)).status())
        .isEqualTo(201);
  }

  @Test
  void aFailedBindingReleasesTheCode(Vertx vertx) throws Exception {
    start(vertx, Map.of());
    String code = h.createCode(workspace, false).getString("code");
    h.failNextBindings.set(1);
    assertThat(h.call("POST", "/v1/redeem", null, PairingHarness.redemption(code)).status())
        .isEqualTo(502);
    assertThat(h.call("POST", "/v1/redeem", null, PairingHarness.redemption(code)).status())
        .isEqualTo(201);
  }

  @Test
  void sessionsAreCheckedForWorkspaceRoleAndSignature(Vertx vertx) throws Exception {
    start(vertx, Map.of());
    UUID other = UUID.randomUUID();
    String path = "/v1/workspaces/" + workspace + "/codes";
    assertThat(h.call("POST", path, h.admin(other), new JsonObject()).status()).isEqualTo(404);
    assertThat(
            h.call(
                    "POST",
                    path,
                    h.tokens.session(workspace, "viewer", "pairing", h.clock.instant()),
                    new JsonObject())
                .status())
        .isEqualTo(403);
    assertThat(
            h.call(
                    "POST",
                    path,
                    h.tokens.session(workspace, "admin", "relay", h.clock.instant()),
                    new JsonObject())
                .status())
        .isEqualTo(401);
    assertThat(h.call("POST", path, null, new JsonObject()).status()).isEqualTo(401);
    String t = h.admin(workspace);
    assertThat(
            h.call("POST", path, t.substring(0, t.length() - 4) + "AAAA", new JsonObject())
                .status())
        .isEqualTo(401);
    assertThat(h.call("POST", path, t.substring(0, t.length() / 2), new JsonObject()).status())
        .isEqualTo(401);
    assertThat(h.call("POST", path, "x".repeat(5000), new JsonObject()).status()).isEqualTo(401);
    h.clock.advance(Duration.ofMinutes(11));
    assertThat(h.call("POST", path, t, new JsonObject()).status()).isEqualTo(401);
  }

  @Test
  void redeemRefusesMalformedTruncatedAndOversizedBodies(Vertx vertx) throws Exception {
    start(vertx, Map.of());
    String body =
        PairingHarness.redemption(h.createCode(workspace, false).getString("code")).encode();
    java.net.http.HttpClient client =
        java.net.http.HttpClient.newBuilder()
            .version(java.net.http.HttpClient.Version.HTTP_1_1)
            .build();
    for (String raw :
        List.of(body.substring(0, body.length() / 2), "[1,2,3]", "\"code\"", "{\"code\":", "")) {
      var r =
          client.send(
              java.net.http.HttpRequest.newBuilder(h.base.resolve("/v1/redeem"))
                  .POST(java.net.http.HttpRequest.BodyPublishers.ofString(raw))
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(raw).isEqualTo(400);
      assertThat(new JsonObject(r.body()).getJsonObject("error")).isNotNull();
    }
    var big =
        client.send(
            java.net.http.HttpRequest.newBuilder(h.base.resolve("/v1/redeem"))
                .POST(
                    java.net.http.HttpRequest.BodyPublishers.ofString(
                        "{\"code\":\"" + "A".repeat(2 * 1024 * 1024) + "\"}"))
                .build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(big.statusCode()).isEqualTo(413);
    assertThat(h.machinesCreated).isEmpty();
  }

  @Test
  void anUnreachableKeySetIsA503NotAnAcceptance(Vertx vertx) throws Exception {
    start(vertx, Map.of());
    h.jwksDown = true;
    PairingHarness.Response r =
        h.call(
            "POST", "/v1/workspaces/" + workspace + "/codes", h.admin(workspace), new JsonObject());
    assertThat(r.status()).isEqualTo(503);
    h.jwksDown = false;
    h.clock.advance(Duration.ofSeconds(11));
    assertThat(
            h.call(
                    "POST",
                    "/v1/workspaces/" + workspace + "/codes",
                    h.admin(workspace),
                    new JsonObject())
                .status())
        .isEqualTo(201);
  }

  @Test
  void redeemValidatesEveryField(Vertx vertx) throws Exception {
    start(vertx, Map.of());
    String code = h.createCode(workspace, false).getString("code");
    Map<String, Object> badValues =
        Map.of(
            "install_id",
            "zz",
            "x25519_public_key",
            "ab".repeat(31),
            "ed25519_public_key",
            "zz".repeat(32),
            "name",
            "n".repeat(65),
            "os",
            7,
            "code",
            "");
    for (var e : badValues.entrySet()) {
      String field = e.getKey();
      JsonObject bad = PairingHarness.redemption(code).put(field, e.getValue());
      PairingHarness.Response r = h.call("POST", "/v1/redeem", null, bad);
      assertThat(r.status()).as(field).isEqualTo(400);
      assertThat(r.body().getJsonObject("error").getString("field")).isEqualTo(field);
    }
    PairingHarness.Response extra =
        h.call("POST", "/v1/redeem", null, PairingHarness.redemption(code).put("admin", true));
    assertThat(extra.body().getJsonObject("error").getString("field")).isEqualTo("admin");
    assertThat(h.call("POST", "/v1/redeem", null, PairingHarness.redemption(code)).status())
        .isEqualTo(201);
  }
}
