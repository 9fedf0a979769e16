package dev.umbra.kit.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.umbra.crypto.secret.VerificationMemo;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Verifies control-plane session tokens offline for one audience (a service id such as {@code
 * relay}), with the key set published at {@code /.well-known/jwks.json}. Keys are cached; a token
 * naming an unknown {@code kid} waits for a fetch of the key set that starts after it came ({@link
 * KeySetFetches}: at most one every {@link #MIN_REFRESH}), which is how rotated keys and the keys
 * of control-plane instances started since are picked up without restarts.
 */
public final class SessionVerifier {
  public static final Duration MIN_REFRESH = Duration.ofSeconds(2);
  private static final int MAX_JWKS_BYTES = 64 * 1024;

  /** A key set fetch fails after this long, whatever it waits for. */
  private static final long FETCH_DEADLINE_MS = 10_000;

  private static final HexFormat HEX = HexFormat.of();

  private final Vertx vertx;
  private final URI jwksUrl;
  private final String audience;
  private final Clock clock;
  private final HttpClient http;
  private volatile Map<String, PublicKey> keys = Map.of();
  private final KeySetFetches fetches;
  private volatile RevocationCheck revocations;

  public SessionVerifier(Vertx vertx, URI jwksUrl, String audience, Clock clock) {
    this(vertx, jwksUrl, audience, clock, new HttpClientOptions());
  }

  /**
   * A verifier fetching the key set with {@code clientOptions} (a service passes its {@code
   * ServiceTls.clientOptions()}, so an https control plane is verified against the configured CA).
   */
  public SessionVerifier(
      Vertx vertx, URI jwksUrl, String audience, Clock clock, HttpClientOptions clientOptions) {
    this.vertx = vertx;
    this.jwksUrl = jwksUrl;
    this.audience = audience;
    this.clock = clock;
    this.http = vertx == null ? null : vertx.createHttpClient(clientOptions);
    this.fetches = new KeySetFetches(vertx, clock, MIN_REFRESH, this::fetch);
  }

  /** The JWKS address under a control-plane base URL. */
  public static URI jwksUrl(URI controlPlane) {
    String base = controlPlane.toString().replaceAll("/+$", "");
    return URI.create(base + SessionTokens.JWKS_PATH);
  }

  /** Verifies {@code token}; fails with {@link InvalidSessionException} when it is not valid. */
  public Future<SessionClaims> verify(String token) {
    String kid;
    try {
      kid = keyId(token);
    } catch (InvalidSessionException e) {
      return Future.failedFuture(e);
    }
    if (kid != null && !keys.containsKey(kid) && http != null) {
      return fetches
          .startedAfterNow(() -> keys.containsKey(kid))
          .transform(
              ar ->
                  ar.failed() && !keys.containsKey(kid)
                      ? Future.failedFuture(
                          new KeySetUnavailableException(
                              "the control plane's key set could not be fetched", ar.cause()))
                      : verifyNow(token));
    }
    return verifyNow(token);
  }

  /**
   * Refuses, from now on, tokens that {@code check} says are revoked ({@link
   * RevokedSessionException}), so every route and upgrade that verifies through this verifier
   * honours revocations.
   */
  public SessionVerifier checkRevocations(RevocationCheck check) {
    this.revocations = check;
    return this;
  }

  private Future<SessionClaims> verifyNow(String token) {
    try {
      SessionClaims claims = check(token, keys, audience, clock.instant());
      RevocationCheck r = revocations;
      if (r != null && r.isRevoked(claims)) {
        return Future.failedFuture(new RevokedSessionException());
      }
      return Future.succeededFuture(claims);
    } catch (InvalidSessionException e) {
      return Future.failedFuture(e);
    }
  }

  /** Fetches the key set now; concurrent callers share one request. */
  public Future<Void> refresh() {
    return fetches.now();
  }

  private Future<Void> fetch() {
    RequestOptions opts =
        new RequestOptions()
            .setMethod(HttpMethod.GET)
            .setAbsoluteURI(jwksUrl.toString())
            .setTimeout(5000);
    Future<Void> f =
        http.request(opts)
            .compose(req -> req.send())
            .compose(
                resp -> {
                  if (resp.statusCode() != 200) {
                    return Future.failedFuture(
                        new InvalidSessionException(
                            "key set unavailable: HTTP " + resp.statusCode()));
                  }
                  return resp.body();
                })
            .compose(
                body -> {
                  if (body.length() > MAX_JWKS_BYTES) {
                    return Future.failedFuture(new InvalidSessionException("key set too large"));
                  }
                  keys = parseKeySet(body.toString());
                  return Future.<Void>succeededFuture();
                })
            // the whole fetch is bounded, not only until the answer: Vert.x 5.0.7 can drop a
            // response's end (eclipse-vertx/vert.x#6038), and a fetch that never ended would stay
            // inflight, so no later refresh would run
            .timeout(FETCH_DEADLINE_MS, TimeUnit.MILLISECONDS);
    return f.onComplete(
        x -> {
          if (keys.isEmpty()) {
            // no key yet (the control plane was not up, or not done with its keys, when a service
            // warmed its cache at start: the fetch failed or served an empty set): the next token
            // need not wait
            fetches.allowAtOnce();
          }
        });
  }

  /** Replaces the cached keys (tests and single-JVM wiring). */
  public void useKeys(Map<String, PublicKey> newKeys) {
    keys = Map.copyOf(newKeys);
  }

  /** The Ed25519 keys of a JWKS document, by kid; other key types are ignored. */
  public static Map<String, PublicKey> parseKeySet(String json) {
    JWKSet set;
    try {
      set = JWKSet.parse(json);
    } catch (ParseException e) {
      throw new InvalidSessionException("malformed key set", e);
    }
    Map<String, PublicKey> out = new HashMap<>();
    for (JWK jwk : set.getKeys()) {
      if (jwk instanceof OctetKeyPair okp
          && Curve.Ed25519.equals(okp.getCurve())
          && okp.getKeyID() != null) {
        out.put(okp.getKeyID(), Ed25519Jws.publicKey(okp.getDecodedX()));
      }
    }
    return Map.copyOf(out);
  }

  /**
   * The check a {@link VerificationMemo} for {@link #check(String, Map, String, Instant,
   * VerificationMemo)} runs on a miss: (hex of the raw Ed25519 key, token bytes) → the token's
   * signature is valid under that key. A pure function of its arguments, as the memo requires.
   */
  public static boolean signatureCheck(String keyHex, byte[] token) {
    try {
      return signatureValid(
          parse(new String(token, StandardCharsets.UTF_8)),
          Ed25519Jws.publicKey(HEX.parseHex(keyHex)));
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static boolean signatureValid(SignedJWT jwt, PublicKey key) {
    try {
      return jwt.verify(new Ed25519Jws(key));
    } catch (Exception e) {
      return false;
    }
  }

  /**
   * The {@code kid} a token names (null when it names none); fails with {@link
   * InvalidSessionException} when it is no well-formed token of a supported algorithm.
   */
  public static String keyId(String token) {
    return parse(token).getHeader().getKeyID();
  }

  private static SignedJWT parse(String token) {
    if (token == null || token.isEmpty()) {
      throw new InvalidSessionException("missing session token");
    }
    if (token.length() > SessionTokens.MAX_TOKEN_CHARS) {
      throw new InvalidSessionException("session token too long");
    }
    try {
      SignedJWT jwt = SignedJWT.parse(token);
      JWSAlgorithm alg = jwt.getHeader().getAlgorithm();
      if (!JWSAlgorithm.EdDSA.equals(alg) && !JWSAlgorithm.Ed25519.equals(alg)) {
        throw new InvalidSessionException("unsupported token algorithm");
      }
      return jwt;
    } catch (ParseException | RuntimeException e) {
      if (e instanceof InvalidSessionException ise) {
        throw ise;
      }
      throw new InvalidSessionException("malformed session token");
    }
  }

  /** Checks signature and claims of {@code token} against {@code keys} at time {@code now}. */
  public static SessionClaims check(
      String token, Map<String, PublicKey> keys, String audience, Instant now) {
    return check(token, keys, audience, now, null);
  }

  /**
   * {@link #check(String, Map, String, Instant)}, with the signature check remembered in {@code
   * signatures} (null: none): a token presented on every request of a session (the messaging
   * routes) costs one Ed25519 verification, not one per request — the JDK's took about half of a
   * control plane's CPU under the messaging benchmark (docs/benchmarks.md, "Messaging"). Only the
   * signature's validity over these exact bytes under this exact key is remembered (see {@link
   * VerificationMemo}: keyed, in memory, successes only); the key lookup, issuer, audience, expiry
   * and every claim are checked on each call as without it, and revocation stays the caller's.
   */
  public static SessionClaims check(
      String token,
      Map<String, PublicKey> keys,
      String audience,
      Instant now,
      VerificationMemo signatures) {
    return checked(token, keys, audience, now, signatures).claims();
  }

  /**
   * A token that passed {@link #check}: its claims and what they were checked against that is not a
   * function of the token's bytes (the key its kid named, the not-before time), for {@link
   * SessionClaimsMemo}.
   */
  record Checked(SessionClaims claims, String keyId, PublicKey key, Instant notBefore) {}

  static Checked checked(
      String token,
      Map<String, PublicKey> keys,
      String audience,
      Instant now,
      VerificationMemo signatures) {
    SignedJWT jwt = parse(token);
    JWSHeader header = jwt.getHeader();
    PublicKey key = header.getKeyID() == null ? null : keys.get(header.getKeyID());
    if (key == null) {
      throw new InvalidSessionException("session token signed by an unknown key");
    }
    boolean valid =
        signatures == null
            ? signatureValid(jwt, key)
            : signatures.verify(
                HEX.formatHex(Ed25519Jws.rawPublicKey(key)),
                token.getBytes(StandardCharsets.UTF_8));
    if (!valid) {
      throw new InvalidSessionException("bad session token signature");
    }
    JWTClaimsSet c;
    try {
      c = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw new InvalidSessionException("malformed session token claims");
    }
    if (!SessionTokens.ISSUER.equals(c.getIssuer())) {
      throw new InvalidSessionException("session token from another issuer");
    }
    List<String> aud = c.getAudience();
    if (aud == null || aud.size() != 1 || !audience.equals(aud.get(0))) {
      throw new InvalidSessionException("session token is not for " + audience);
    }
    Date exp = c.getExpirationTime();
    long skew = SessionTokens.CLOCK_SKEW_SECONDS;
    if (exp == null || !now.isBefore(exp.toInstant().plusSeconds(skew))) {
      throw new InvalidSessionException("session token expired");
    }
    Date nbf = c.getNotBeforeTime() != null ? c.getNotBeforeTime() : c.getIssueTime();
    if (nbf != null && now.plusSeconds(skew).isBefore(nbf.toInstant())) {
      throw new InvalidSessionException("session token not yet valid");
    }
    return new Checked(
        claimsOf(c, audience, exp.toInstant()),
        header.getKeyID(),
        key,
        nbf == null ? null : nbf.toInstant());
  }

  private static SessionClaims claimsOf(JWTClaimsSet c, String audience, Instant exp) {
    try {
      UUID wid = UUID.fromString(String.valueOf(c.getStringClaim(SessionTokens.CLAIM_WORKSPACE)));
      SubjectKind kind =
          SubjectKind.parse(c.getStringClaim(SessionTokens.CLAIM_SUBJECT_KIND))
              .orElseThrow(() -> new InvalidSessionException("session token has no subject kind"));
      Role role =
          Role.parse(c.getStringClaim(SessionTokens.CLAIM_ROLE))
              .orElseThrow(() -> new InvalidSessionException("session token has no role"));
      if (c.getSubject() == null || c.getJWTID() == null || c.getIssueTime() == null) {
        throw new InvalidSessionException("session token lacks sub, jti or iat");
      }
      Optional<String> apiToken =
          Optional.ofNullable(c.getStringClaim(SessionTokens.CLAIM_API_TOKEN));
      Optional<String> device = Optional.ofNullable(c.getStringClaim(SessionTokens.CLAIM_DEVICE));
      Long ksv = c.getLongClaim(SessionTokens.CLAIM_KEYSET_VERSION);
      if (device.isPresent() != (ksv != null)
          || (ksv != null && (ksv < 1 || ksv > Integer.MAX_VALUE))) {
        throw new InvalidSessionException("malformed session token claims");
      }
      return new SessionClaims(
          wid,
          c.getSubject(),
          kind,
          role,
          audience,
          c.getJWTID(),
          c.getIssueTime().toInstant(),
          exp,
          apiToken,
          device,
          ksv == null ? 0 : ksv.intValue());
    } catch (ParseException | IllegalArgumentException e) {
      throw new InvalidSessionException("malformed session token claims");
    }
  }
}
