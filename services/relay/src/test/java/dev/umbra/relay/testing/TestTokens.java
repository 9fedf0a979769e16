package dev.umbra.relay.testing;

import dev.umbra.kit.auth.SessionTokens;
import dev.umbra.kit.auth.TestSessionTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;

/**
 * Serves the JWKS of the kit's {@link TestSessionTokens} from a tiny HTTP server and mints
 * control-plane-shaped session tokens with it, so relay tests need no control plane.
 */
public final class TestTokens implements AutoCloseable {
  private final TestSessionTokens tokens = new TestSessionTokens();
  private HttpServer server;

  private TestTokens() {}

  /** Starts the JWKS server on an ephemeral port. */
  public static Future<TestTokens> start(Vertx vertx) {
    TestTokens t = new TestTokens();
    return vertx
        .createHttpServer()
        .requestHandler(
            req -> {
              if (req.path().equals(SessionTokens.JWKS_PATH)) {
                req.response().putHeader("content-type", "application/json").end(t.jwks());
              } else {
                req.response().setStatusCode(404).end();
              }
            })
        .listen(0, "127.0.0.1")
        .map(
            s -> {
              t.server = s;
              return t;
            });
  }

  /** The control-plane base URL to put in UMBRA_CONTROL_PLANE_URL. */
  public URI controlPlaneUrl() {
    return URI.create("http://127.0.0.1:" + server.actualPort());
  }

  public String jwks() {
    return tokens.jwks().encode();
  }

  /** A token for a workspace member (role member). */
  public String member(UUID workspace, String account) {
    return mint(
        workspace,
        account,
        "member",
        "member",
        UUID.randomUUID().toString(),
        Duration.ofMinutes(10),
        "relay");
  }

  /** A token for a daemon: subject is the machine id (its relay target). */
  public String machine(UUID workspace, String machineId) {
    return mint(
        workspace,
        machineId,
        "machine",
        "machine",
        UUID.randomUUID().toString(),
        Duration.ofMinutes(10),
        "relay");
  }

  public String mint(
      UUID workspace,
      String subject,
      String kind,
      String role,
      String jti,
      Duration ttl,
      String audience) {
    Instant now = Instant.ofEpochSecond(Instant.now().getEpochSecond());
    return tokens.sign(
        b ->
            b.audience(audience)
                .subject(subject)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(ttl)))
                .jwtID(jti)
                .claim(SessionTokens.CLAIM_WORKSPACE, workspace.toString())
                .claim(SessionTokens.CLAIM_ROLE, role)
                .claim(SessionTokens.CLAIM_SUBJECT_KIND, kind));
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
  }
}
