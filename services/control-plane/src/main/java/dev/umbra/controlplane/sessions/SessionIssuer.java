package dev.umbra.controlplane.sessions;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.umbra.kit.auth.Ed25519JwsSigner;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SessionTokens;
import dev.umbra.kit.auth.SubjectKind;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.Set;
import java.util.UUID;

/** Signs session tokens (format in {@link SessionTokens}) with this instance's current key. */
public final class SessionIssuer {
  /** Services a session token may be for. */
  public static final Set<String> AUDIENCES =
      Set.of("control-plane", "relay", "pairing", "audit", "webtty-engine");

  private final SigningKeys keys;
  private final Clock clock;

  public SessionIssuer(SigningKeys keys, Clock clock) {
    this.keys = keys;
    this.clock = clock;
  }

  public record Issued(String token, Instant expiresAt) {
    @Override
    public String toString() {
      return "SessionToken[expires " + expiresAt + "]";
    }
  }

  /**
   * What a session was minted with, written into its claims so revocations can find it ({@code
   * tid}, {@code did}, {@code ksv} in {@link SessionTokens}).
   *
   * @param apiTokenId the API token of a member's request (null for machines)
   * @param deviceId the trusted device the session is bound to (null when unbound)
   * @param keysetVersion that device's credential version (0 when unbound)
   */
  public record MintedWith(UUID apiTokenId, UUID deviceId, int keysetVersion) {
    public static final MintedWith MACHINE = new MintedWith(null, null, 0);

    public MintedWith {
      if ((deviceId == null) != (keysetVersion == 0) || keysetVersion < 0) {
        throw new IllegalArgumentException("a bound device needs its credential's keyset version");
      }
    }
  }

  public Issued issue(
      UUID workspaceId,
      String subject,
      SubjectKind kind,
      Role role,
      String audience,
      MintedWith with) {
    SigningKeys.Active key = keys.current();
    Instant now = clock.instant();
    Instant exp = now.plus(keys.tokenTtl());
    JWTClaimsSet claims =
        SessionTokens.claims(workspaceId, subject, kind, role, audience, now, exp)
            .notBeforeTime(Date.from(now))
            .claim(
                SessionTokens.CLAIM_API_TOKEN,
                with.apiTokenId() == null ? null : with.apiTokenId().toString())
            .claim(
                SessionTokens.CLAIM_DEVICE,
                with.deviceId() == null ? null : with.deviceId().toString())
            .claim(
                SessionTokens.CLAIM_KEYSET_VERSION,
                with.deviceId() == null ? null : with.keysetVersion())
            .build();
    JWSHeader header =
        new JWSHeader.Builder(JWSAlgorithm.EdDSA).keyID(key.kid()).type(JOSEObjectType.JWT).build();
    SignedJWT jwt = new SignedJWT(header, claims);
    try {
      jwt.sign(Ed25519JwsSigner.of(key.pair().privateKey()::sign));
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot sign a session token", e);
    }
    return new Issued(jwt.serialize(), exp);
  }
}
