package dev.umbra.controlplane.tokens;

import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.auth.TokenScope;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.notify.RevocationNotices;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.db.Database;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.Outcome;
import dev.umbra.proto.bus.RevokedKind;
import io.vertx.core.Future;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;

/**
 * The caller's own API tokens: minted (shown once), listed, revoked. A revocation is published,
 * once committed, for each workspace of the account, so every service refuses the session tokens it
 * minted (docs/security.md, "Revocation").
 */
final class TokenService {
  private final Database db;
  private final TokenStore tokens;
  private final AuditTrail audit;
  private final RevocationNotices revocations;
  private final Ids ids;
  private final Clock clock;

  TokenService(
      Database db,
      TokenStore tokens,
      AuditTrail audit,
      RevocationNotices revocations,
      Ids ids,
      Clock clock) {
    this.db = db;
    this.tokens = tokens;
    this.audit = audit;
    this.revocations = revocations;
    this.ids = ids;
    this.clock = clock;
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }

  /** A new token for the caller's account, with its secret (shown once). */
  Future<IssuedToken> create(Caller caller, String name, TokenScope scope) {
    return tokens
        .mint()
        .compose(
            m ->
                db.withTransaction(
                    conn ->
                        TokenStore.insert(
                            conn, ids.next(), caller.accountId(), name, scope, m, now())))
        .onSuccess(
            j ->
                audit.emit(
                    caller.sourceIp(),
                    null,
                    ActorKind.ACTOR_KIND_MEMBER,
                    caller.accountId(),
                    AuditAction.TOKEN_CREATED,
                    "token:" + j.id(),
                    Outcome.OUTCOME_SUCCESS));
  }

  Future<List<ApiToken>> page(Caller caller, UUID after, int limit) {
    return db.withTransaction(conn -> TokenStore.page(conn, caller.accountId(), after, limit));
  }

  /** Revokes one of the caller's tokens (not found when it is not theirs). */
  Future<Void> revoke(Caller caller, UUID id) {
    return db.withTransaction(
            conn ->
                TokenStore.revoke(conn, caller.accountId(), id, now())
                    .compose(
                        ws ->
                            ws == null
                                ? Future.<List<UUID>>failedFuture(Refusal.notFound("token"))
                                : Future.succeededFuture(ws)))
        .map(
            workspaces -> {
              // committed: publish now, with a time after every session the token minted
              audit.emit(
                  caller.sourceIp(),
                  null,
                  ActorKind.ACTOR_KIND_MEMBER,
                  caller.accountId(),
                  AuditAction.TOKEN_REVOKED,
                  "token:" + id,
                  Outcome.OUTCOME_SUCCESS);
              for (UUID wid : workspaces) {
                revocations.revoked(
                    RevokedKind.REVOKED_KIND_TOKEN, wid, id.toString(), caller.accountId());
              }
              return (Void) null;
            });
  }
}
