package dev.umbra.relay.auth;

import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.auth.SessionVerifier;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import io.vertx.core.Vertx;
import java.time.Clock;

/** Who may use the relay, and how tokens are checked (offline, with the control plane's JWKS). */
public final class RelayAuth {
  public static final String AUDIENCE = "relay";

  private RelayAuth() {}

  /**
   * A {@link SessionVerifier} for audience {@code relay} against the control plane's published key
   * set.
   */
  public static SessionVerifier verifier(Vertx vertx, ServiceConfig config, Clock clock) {
    return new SessionVerifier(
        vertx,
        SessionVerifier.jwksUrl(config.publicUrls().get(ServiceName.CONTROL_PLANE)),
        AUDIENCE,
        clock,
        config.tls().clientOptions());
  }

  /** A daemon: a machine token. */
  public static boolean isDaemon(SessionClaims c) {
    return c.subjectKind() == SubjectKind.MACHINE && c.role() == Role.MACHINE;
  }

  /**
   * A client that may open channels: a member with at least the member role (viewers may not run
   * commands).
   */
  public static boolean isClient(SessionClaims c) {
    return c.subjectKind() == SubjectKind.MEMBER && c.role().atLeast(Role.MEMBER);
  }
}
