package dev.umbra.kit.auth;

import com.nimbusds.jwt.JWTClaimsSet;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;

/**
 * The session token format, shared by the control plane (which signs) and every service (which
 * verifies offline): a compact JWS, {@code alg} EdDSA (Ed25519), {@code kid} naming a key of the
 * control plane's JWKS, claims {@code iss}, {@code aud} (one service id, e.g. {@code relay}),
 * {@code sub}, {@code iat}, {@code exp}, {@code jti} and the Umbra claims below.
 */
public final class SessionTokens {
  public static final String ISSUER = "umbra-control-plane";

  /** Workspace id (UUID). */
  public static final String CLAIM_WORKSPACE = "wid";

  /** Role in the workspace: owner, admin, member, viewer or machine. */
  public static final String CLAIM_ROLE = "role";

  /** Subject kind: member or machine. */
  public static final String CLAIM_SUBJECT_KIND = "sk";

  /** Id of the API token that minted a member's session (revoked with it). */
  public static final String CLAIM_API_TOKEN = "tid";

  /** Id of the trusted device a session is bound to (revoked with it); absent when unbound. */
  public static final String CLAIM_DEVICE = "did";

  /**
   * Keyset version of the bound device's credential (a later rotation voids it); with {@code did}.
   */
  public static final String CLAIM_KEYSET_VERSION = "ksv";

  /**
   * The longest life of a session token. The control plane signs with it and services keep a
   * revocation for as long as a token minted before it can still be presented.
   */
  public static final java.time.Duration MAX_TTL = java.time.Duration.ofMinutes(10);

  /** Path of the key set on the control plane. */
  public static final String JWKS_PATH = "/.well-known/jwks.json";

  /** A longer bearer string is refused before parsing. */
  public static final int MAX_TOKEN_CHARS = 4096;

  /** Allowed clock difference between signer and verifier. */
  public static final long CLOCK_SKEW_SECONDS = 30;

  private SessionTokens() {}

  /**
   * The claims every session token carries: issuer, audience, subject, issue and expiry times, a
   * fresh {@code jti}, workspace, subject kind and role. The signer adds what else it binds.
   */
  public static JWTClaimsSet.Builder claims(
      UUID workspace,
      String subject,
      SubjectKind kind,
      Role role,
      String audience,
      Instant issuedAt,
      Instant expiresAt) {
    return new JWTClaimsSet.Builder()
        .issuer(ISSUER)
        .audience(audience)
        .subject(subject)
        .issueTime(Date.from(issuedAt))
        .expirationTime(Date.from(expiresAt))
        .jwtID(UUID.randomUUID().toString())
        .claim(CLAIM_WORKSPACE, workspace.toString())
        .claim(CLAIM_SUBJECT_KIND, kind.wire())
        .claim(CLAIM_ROLE, role.wire());
  }
}
