package dev.umbra.relay.testing;

import dev.umbra.kit.auth.SessionTokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.UUID;

/**
 * Mints control-plane-shaped session tokens (EdDSA JWS) with a test key and serves its JWKS from a
 * tiny HTTP server, so relay tests need no control plane.
 */
public final class TestTokens implements AutoCloseable {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private final KeyPair key;
  private final String kid = "test-" + UUID.randomUUID().toString().substring(0, 8);
  private HttpServer server;

  private TestTokens() {
    try {
      key = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

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

  private String rawPublicKey() {
    byte[] spki = key.getPublic().getEncoded();
    return B64.encodeToString(Arrays.copyOfRange(spki, spki.length - 32, spki.length));
  }

  public String jwks() {
    return new JsonObject()
        .put(
            "keys",
            new JsonArray()
                .add(
                    new JsonObject()
                        .put("kty", "OKP")
                        .put("crv", "Ed25519")
                        .put("kid", kid)
                        .put("x", rawPublicKey())))
        .encode();
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
    long now = Instant.now().getEpochSecond();
    JsonObject header = new JsonObject().put("alg", "EdDSA").put("kid", kid).put("typ", "JWT");
    JsonObject claims =
        new JsonObject()
            .put("iss", SessionTokens.ISSUER)
            .put("aud", audience)
            .put("sub", subject)
            .put("iat", now)
            .put("exp", now + ttl.toSeconds())
            .put("jti", jti)
            .put(SessionTokens.CLAIM_WORKSPACE, workspace.toString())
            .put(SessionTokens.CLAIM_ROLE, role)
            .put(SessionTokens.CLAIM_SUBJECT_KIND, kind);
    String input =
        B64.encodeToString(header.encode().getBytes(StandardCharsets.UTF_8))
            + "."
            + B64.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8));
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initSign(key.getPrivate());
      s.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + B64.encodeToString(s.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
  }
}
