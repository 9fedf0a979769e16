package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.AuthFirstWalk;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Authentication before any parsing (finding 10): every control-plane route not on the public list
 * below answers an unauthenticated request with a malformed body and malformed path parameters with
 * 401 and no field name (it named fields with 400 on 12 routes).
 */
@ExtendWith(VertxExtension.class)
class AuthOrderTest {
  /** Public by design, each for a reason; a new route is not public until it is listed here. */
  static final Set<String> PUBLIC =
      Set.of(
          "GET /v1/discovery", // service URLs
          "GET /.well-known/jwks.json", // public keys
          "GET /v1/openapi.json", // the API document
          "GET /", // redirects to the browser app's page (the address opened in a browser)
          "GET /app", // redirects to the browser app's page (docs/web.md)
          "GET /app/", // the browser app's static files: the page signs in itself, no secret
          "POST /v1/bootstrap", // the one-time bootstrap token is in the body
          "POST /v1/invitations/accept", // the invitation token is in the body
          "POST /v1/machine-sessions", // signed by the machine's key: the signature is in the body
          "POST /v1/machine-trust", // idem
          "POST /v1/machine-vault", // idem
          "POST /v1/machine-audit", // idem: a daemon's signed audit report
          "POST /v1/machine-tty-policy", // idem: a daemon fetching its signed WebTTY policy
          "POST /v1/machine-workflow", // idem: a daemon fetching a workflow to verify and run
          "POST /v1/machine-workflow-runs", // idem: a daemon's signed workflow run report
          "POST /v1/machine-workflows", // idem: a daemon mirroring workflows to repository files
          "POST /v1/machine-workflow-proposals", // idem: a daemon proposing a file's revision
          "POST /v1/machine-workflow-refusals", // idem: a daemon reporting a refused definition
          "POST /v1/machine-inbox", // idem: a daemon raising an inbox item for a runtime
          "POST /v1/machine-inbox-decision", // idem: a daemon waiting for that item's decision
          "POST /v1/agent-enrolments", // signed by the machine's and the agent's keys, in the body
          "POST /v1/agent-sessions"); // signed by the agent's key: the signature is in the body

  Harness h;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    h = new Harness(vertx, Map.of("UMBRA_ADMIN_TOKEN", "admin-token-for-tests-0123456789"));
  }

  @AfterEach
  void stop() throws Exception {
    h.close();
  }

  @Test
  void everyNonPublicRouteRefusesAnUnauthenticatedMalformedRequestWith401AndNoFieldName() {
    Set<String> routes = AuthFirstWalk.routes(h.service.router());
    assertThat(routes).as("the public list names mounted routes only").containsAll(PUBLIC);
    Set<String> allowed = new HashSet<>(PUBLIC);
    allowed.addAll(AuthFirstWalk.KIT_PUBLIC);
    List<AuthFirstWalk.Probe> probes =
        AuthFirstWalk.walk(h.service.router(), h.service.actualPort(), allowed);
    assertThat(probes).hasSizeGreaterThanOrEqualTo(30);
    assertThat(AuthFirstWalk.problems(probes)).isEmpty();
  }

  @Test
  void aValidTokenStillReachesTheValidatorThatNamesTheField() {
    Harness.Owner owner = h.bootstrap("acme");
    Harness.Response r = h.call("POST", "/v1/workspaces", owner.token(), "{\"zz_probe_field\": 1}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.errorField()).isEqualTo("zz_probe_field");
    Harness.Response read = h.call("GET", "/v1/workspaces/not-a-uuid", owner.token(), null);
    assertThat(read.status()).isEqualTo(400);
    assertThat(read.errorField()).isEqualTo("workspace_id");
  }
}
