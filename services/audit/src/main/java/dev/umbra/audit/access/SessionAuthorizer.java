package dev.umbra.audit.access;

import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEventRules;
import dev.umbra.kit.auth.InvalidSessionException;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SessionAuth;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.auth.SessionVerifier;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.ServiceHttp;
import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import java.util.Optional;
import java.util.UUID;

/**
 * Admits a control-plane session token for audience {@code audit} whose workspace claim is the
 * workspace asked for and whose role is admin or owner (for every need: the live tail carries the
 * same records as a query). The deployment operator's {@code UMBRA_ADMIN_TOKEN}, when set, is also
 * admitted, for any workspace and for the deployment chain, which nothing else may read.
 */
public final class SessionAuthorizer implements AuditAuthorizer {
  public static final String AUDIENCE = "audit";

  /** Context key of what {@link #authenticate} found: {@link #OPERATOR} or the session claims. */
  private static final String AUTHENTICATED = "umbra.audit.authenticated";

  private static final Object OPERATOR = new Object();

  private final SessionVerifier verifier;
  private final Optional<String> adminToken;

  public SessionAuthorizer(SessionVerifier verifier, Optional<String> adminToken) {
    this.verifier = verifier;
    this.adminToken = adminToken;
  }

  @Override
  public Future<Void> authenticate(RoutingContext ctx) {
    String token = SessionAuth.bearer(ctx);
    if (token == null) {
      return Future.failedFuture(
          ApiException.unauthorized("a session token is required (Authorization: Bearer ...)"));
    }
    if (adminToken.isPresent() && ServiceHttp.constantTimeEquals(token, adminToken.get())) {
      ctx.put(AUTHENTICATED, OPERATOR);
      return Future.succeededFuture();
    }
    return verifier
        .verify(token)
        .recover(
            e ->
                Future.failedFuture(
                    ApiException.unauthorized(
                        e instanceof InvalidSessionException
                            ? e.getMessage()
                            : "session token could not be checked")))
        .map(
            claims -> {
              ctx.put(AUTHENTICATED, claims);
              return null;
            });
  }

  @Override
  public Future<Caller> authorize(RoutingContext ctx, UUID workspace, Need need) {
    Object known = ctx.get(AUTHENTICATED);
    if (known == null) {
      return authenticate(ctx).compose(v -> authorize(ctx, workspace, need));
    }
    if (known == OPERATOR) {
      return Future.succeededFuture(Caller.operator());
    }
    if (workspace.equals(AuditEventRules.DEPLOYMENT_WORKSPACE)) {
      return Future.failedFuture(
          ApiException.forbidden("the deployment audit chain needs the admin token"));
    }
    return admit((SessionClaims) known, workspace);
  }

  private static Future<Caller> admit(SessionClaims claims, UUID workspace) {
    if (!claims.workspaceId().equals(workspace)) {
      return Future.failedFuture(
          ApiException.forbidden("the session token is for another workspace"));
    }
    if (claims.subjectKind() != SubjectKind.MEMBER || !claims.role().atLeast(Role.ADMIN)) {
      return Future.failedFuture(
          ApiException.forbidden("the audit log needs the admin or owner role"));
    }
    return Future.succeededFuture(new Caller(AuditActor.member(claims.subject()), false, claims));
  }
}
