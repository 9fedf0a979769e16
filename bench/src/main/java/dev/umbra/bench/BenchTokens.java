package dev.umbra.bench;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.umbra.kit.auth.Ed25519JwsSigner;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SessionTokens;
import dev.umbra.kit.auth.SubjectKind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;

/**
 * Session tokens for services a benchmark runs without a control plane: signed as the control plane
 * signs them (format in {@link SessionTokens}) with a key of this run, whose public half a service
 * gets either directly ({@link #publicKeys}) or from a JWKS endpoint this class serves ({@link
 * #serveJwks}, for services in their own JVMs).
 */
public final class BenchTokens implements AutoCloseable {
  /** As long as the control plane would sign them for (services refuse longer lives). */
  private static final Duration TTL = SessionTokens.MAX_TTL;

  private final KeyPair keys;
  private final String kid = "bench-" + UUID.randomUUID().toString().substring(0, 8);
  private HttpServer jwksServer;

  public BenchTokens() {
    try {
      keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A member's token for {@code audience} (role member). */
  public String member(UUID workspace, String account, String audience) {
    return token(workspace, account, SubjectKind.MEMBER, Role.MEMBER, audience);
  }

  /** A daemon's token for {@code audience}: the subject is the machine id. */
  public String machine(UUID workspace, String machineId, String audience) {
    return token(workspace, machineId, SubjectKind.MACHINE, Role.MACHINE, audience);
  }

  private String token(
      UUID workspace, String subject, SubjectKind kind, Role role, String audience) {
    Instant now = Instant.now();
    JWTClaimsSet claims =
        SessionTokens.claims(workspace, subject, kind, role, audience, now, now.plus(TTL)).build();
    SignedJWT jwt =
        new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.EdDSA).keyID(kid).build(), claims);
    try {
      jwt.sign(Ed25519JwsSigner.of(keys.getPrivate()));
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }

  /** The verification keys by kid, for a service's {@code SessionVerifier.useKeys}. */
  public Map<String, PublicKey> publicKeys() {
    return Map.of(kid, keys.getPublic());
  }

  /**
   * Serves the JWKS document on an ephemeral localhost port; the URL is the control-plane base URL
   * to give services ({@code UMBRA_CONTROL_PLANE_URL}).
   */
  public Future<URI> serveJwks(Vertx vertx) {
    byte[] spki = keys.getPublic().getEncoded();
    Base64URL x = Base64URL.encode(Arrays.copyOfRange(spki, spki.length - 32, spki.length));
    String document =
        new JWKSet(new OctetKeyPair.Builder(Curve.Ed25519, x).keyID(kid).build()).toString();
    return vertx
        .createHttpServer()
        .requestHandler(
            req -> {
              if (req.path().equals(SessionTokens.JWKS_PATH)) {
                req.response().putHeader("content-type", "application/json").end(document);
              } else {
                req.response().setStatusCode(404).end();
              }
            })
        .listen(0, "127.0.0.1")
        .map(
            server -> {
              jwksServer = server;
              return URI.create("http://127.0.0.1:" + server.actualPort());
            });
  }

  @Override
  public void close() {
    if (jwksServer != null) {
      jwksServer.close();
    }
  }
}
