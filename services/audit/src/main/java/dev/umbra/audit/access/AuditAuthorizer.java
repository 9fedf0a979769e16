package dev.umbra.audit.access;

import io.vertx.core.Future;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/**
 * The one authorization step in front of every audit API route. It fails with an {@link
 * dev.umbra.kit.http.ApiException} (401 without a valid credential, 403 without the rights) or
 * returns who is asking, for the audit trail of the audit log itself.
 */
public interface AuditAuthorizer {

  /** What the caller wants to do with a workspace's audit log. */
  enum Need {
    /** Query, verify, export. */
    READ,
    /** Live tail. */
    TAIL
  }

  /**
   * Checks the credential alone, before anything else of the request is read (mounted in front of
   * every workspace audit route): fails with 401 without a valid one, so an unauthenticated caller
   * learns nothing of the parameters. {@link #authorize} then decides on the workspace.
   */
  Future<Void> authenticate(RoutingContext ctx);

  Future<Caller> authorize(RoutingContext ctx, UUID workspace, Need need);
}
