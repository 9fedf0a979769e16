package dev.umbra.pairing;

import dev.umbra.crypto.secret.Argon2idHasher;
import dev.umbra.kit.auth.FailureLimiter;
import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SessionAuth;
import dev.umbra.kit.auth.SessionVerifier;
import dev.umbra.kit.config.ConfigException;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.kit.service.UmbraService;
import dev.umbra.pairing.codes.CodeRoutes;
import dev.umbra.pairing.codes.CodeService;
import dev.umbra.pairing.controlplane.ControlPlaneClient;
import io.vertx.core.Future;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.time.Duration;

/**
 * The pairing service verticle (docs/pairing.md). Env: {@code UMBRA_PAIRING_CREATOR_ROLE}
 * (owner|admin|member, default admin), {@code UMBRA_PAIRING_MAX_FAILURES} (failed redemptions per
 * IP per 15 minutes, default 10), {@code UMBRA_INTERNAL_TOKEN} (see {@link InternalCredential}).
 */
public final class PairingService extends UmbraService {

  private SessionVerifier verifier;

  public PairingService(ServiceRuntime runtime) {
    super(runtime);
  }

  @Override
  protected Future<Void> mount(Router router) {
    // the shared credential may be a file another service is still writing: read it off the event
    // loop
    return vertx
        .executeBlocking(() -> InternalCredential.load(settings()), false)
        .compose(internal -> mountWith(router, internal));
  }

  private Future<Void> mountWith(Router router, InternalCredential internal) {
    try {
      var env = settings().env();
      Role creator =
          Role.parse(env.string("UMBRA_PAIRING_CREATOR_ROLE", "admin"))
              .filter(r -> r == Role.OWNER || r == Role.ADMIN || r == Role.MEMBER)
              .orElseThrow(
                  () ->
                      new ConfigException(
                          "UMBRA_PAIRING_CREATOR_ROLE", "must be owner, admin or member"));
      int maxFailures = env.positiveInt("UMBRA_PAIRING_MAX_FAILURES", 10);
      URI cp = settings().publicUrls().get(ServiceName.CONTROL_PLANE);
      verifier =
          new SessionVerifier(
                  vertx,
                  SessionVerifier.jwksUrl(cp),
                  ServiceName.PAIRING.id(),
                  runtime.clock(),
                  settings().tls().clientOptions())
              .checkRevocations(revocations);
      FailureLimiter limiter =
          new FailureLimiter(db, runtime.clock(), maxFailures, Duration.ofMinutes(15));
      CodeRoutes codes =
          new CodeRoutes(
              new CodeService(
                  vertx,
                  db,
                  runtime.clock(),
                  Argon2idHasher.defaults(),
                  new ControlPlaneClient(vertx, cp, internal, settings().tls().clientOptions())),
              limiter,
              runtime.audit(),
              creator,
              settings().publicUrls(),
              runtime.registry());
      codes.mount(router, new SessionAuth(verifier));
      return Future.succeededFuture();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /** The verifier of session tokens (tests and single-JVM wiring may preload keys). */
  public SessionVerifier sessionVerifier() {
    return verifier;
  }
}
