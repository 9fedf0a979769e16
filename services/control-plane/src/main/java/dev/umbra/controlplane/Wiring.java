package dev.umbra.controlplane;

import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.notify.RevocationNotices;
import dev.umbra.controlplane.sessions.SessionIssuer;
import dev.umbra.controlplane.sessions.SigningKeys;
import dev.umbra.controlplane.tokens.TokenStore;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.auth.FailureLimiter;
import dev.umbra.kit.auth.InternalCredential;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.http.ClientAddress;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.Outcome;
import dev.umbra.proto.bus.RevokedKind;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

/** Everything the control plane's routes share, built once at start (wired by hand, no container). */
public record Wiring(
    Vertx vertx,
    Database db,
    Tenancy tenancy,
    Authenticator auth,
    TokenStore tokens,
    SigningKeys keys,
    SessionIssuer issuer,
    FailureLimiter limiter,
    InternalCredential internal,
    Bus bus,
    AuditEmitter audit,
    Clock clock,
    Ids ids) {

  /** Publishes a revocation once the revoking transaction committed ({@link RevocationNotices#revoked}). */
  public void revoked(RevokedKind kind, UUID workspaceId, String subjectId, UUID accountId) {
    new RevocationNotices(bus, clock).revoked(kind, workspaceId, subjectId, accountId);
  }

  public OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }

  /** Emits an audit event about an action in {@code workspaceId} (may be null). */
  public void audit(RoutingContext ctx, UUID workspaceId, ActorKind kind, Object actorId, AuditAction action, String target, Outcome outcome) {
    new AuditTrail(audit).emit(ctx == null ? "" : ClientAddress.forAudit(ctx), workspaceId, kind, actorId, action, target, outcome);
  }
}
