package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.auth.ApiTokens;
import dev.umbra.kit.testing.ParallelHttp;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The probe's concurrent brute force against every failed-attempt limit of the control plane: 200
 * wrong guesses sent at once from one address; exactly the limit are evaluated (each evaluated
 * guess is answered 401/404 after its check, e.g. an Argon2 verification), all the others get 429
 * without being evaluated.
 */
@ExtendWith(VertxExtension.class)
class FailureLimitConcurrencyTest {
  private static final int LIMIT = 20;
  private static final int ATTEMPTS = 200;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  Harness h;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    h =
        new Harness(
            vertx,
            ParallelHttp.limitSettings("UMBRA_CONTROL_PLANE_AUTH_MAX_FAILURES", LIMIT, ATTEMPTS));
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  /** Sends {@code ATTEMPTS} requests at once; the count of each status. */
  private Map<Integer, Integer> inParallel(IntFunction<HttpRequest> request) throws Exception {
    return ParallelHttp.statuses(http, ATTEMPTS, request);
  }

  private HttpRequest post(String path, JsonObject body) {
    return ParallelHttp.postJson(h.base.resolve(path), body.encode());
  }

  @Test
  void evaluatesExactlyTheLimitOf200ParallelBadApiTokens() throws Exception {
    Map<Integer, Integer> statuses =
        inParallel(
            i ->
                HttpRequest.newBuilder(h.base.resolve("/v1/me"))
                    .timeout(Duration.ofSeconds(60))
                    .header("Authorization", "Bearer " + ApiTokens.generate())
                    .GET()
                    .build());
    assertThat(statuses).isEqualTo(Map.of(401, LIMIT, 429, ATTEMPTS - LIMIT));
  }

  @Test
  void evaluatesExactlyTheLimitOf200ParallelBootstrapGuesses() throws Exception {
    Map<Integer, Integer> statuses =
        inParallel(
            i ->
                post("/v1/bootstrap", new JsonObject().put("token", "wrong-bootstrap-token-" + i)));
    assertThat(statuses).isEqualTo(Map.of(401, LIMIT, 429, ATTEMPTS - LIMIT));
  }

  @Test
  void evaluatesExactlyTheLimitOf200ParallelInvitationGuesses() throws Exception {
    h.bootstrap("dev");
    Map<Integer, Integer> statuses =
        inParallel(
            i ->
                post(
                    "/v1/invitations/accept",
                    new JsonObject()
                        .put("token", "wrong-invitation-" + UUID.randomUUID())
                        .put("account_name", "mallory")));
    assertThat(statuses).isEqualTo(Map.of(404, LIMIT, 429, ATTEMPTS - LIMIT));
  }

  @Test
  void evaluatesExactlyTheLimitOf200ParallelBadMachineSignatures() throws Exception {
    Harness.Owner o = h.bootstrap("dev");
    String machine = h.createMachine(o.workspaceId(), "box").body().getString("id");
    Map<Integer, Integer> statuses =
        inParallel(
            i ->
                post(
                    "/v1/machine-sessions",
                    new JsonObject()
                        .put("workspace_id", o.workspaceId())
                        .put("machine_id", machine)
                        .put("audience", "relay")
                        .put("timestamp_ms", System.currentTimeMillis())
                        .put("signature", "ab".repeat(64))));
    assertThat(statuses).isEqualTo(Map.of(401, LIMIT, 429, ATTEMPTS - LIMIT));
  }

  @Test
  void evaluatesExactlyTheLimitOf200ParallelBadMachineTrustRequests() throws Exception {
    Harness.Owner o = h.bootstrap("dev");
    String machine = h.createMachine(o.workspaceId(), "box").body().getString("id");
    Map<Integer, Integer> statuses =
        inParallel(
            i ->
                post(
                    "/v1/machine-trust",
                    new JsonObject()
                        .put("workspace_id", o.workspaceId())
                        .put("machine_id", machine)
                        .put("timestamp_ms", System.currentTimeMillis())
                        .put("signature", "ab".repeat(64))));
    assertThat(statuses).isEqualTo(Map.of(401, LIMIT, 429, ATTEMPTS - LIMIT));
  }
}
