package dev.umbra.controlplane.bootstrap;

import dev.umbra.controlplane.auth.TokenScope;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.tokens.IssuedToken;
import dev.umbra.controlplane.tokens.TokenStore;
import dev.umbra.controlplane.workspaces.Workspace;
import dev.umbra.controlplane.workspaces.Workspaces;
import dev.umbra.crypto.secret.Blake2b256;
import dev.umbra.crypto.secret.SecureRandoms;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.FailureLimiter;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.db.Database;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.Outcome;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.UUID;

/**
 * The one-time bootstrap: the token is stored only as its BLAKE2b-256 hash; redeeming it creates
 * the first account, workspace and owner, and an API token for the CLI, and burns it. A wrong token
 * counts as a failed attempt of its source address and is audited.
 */
final class BootstrapService {
  static final String PREFIX = "umbb_";

  private final Database db;
  private final BootstrapStore store;
  private final TokenStore tokens;
  private final FailureLimiter limiter;
  private final AuditTrail audit;
  private final Ids ids;
  private final Clock clock;

  BootstrapService(
      Database db,
      BootstrapStore store,
      TokenStore tokens,
      FailureLimiter limiter,
      AuditTrail audit,
      Ids ids,
      Clock clock) {
    this.db = db;
    this.store = store;
    this.tokens = tokens;
    this.limiter = limiter;
    this.audit = audit;
    this.ids = ids;
    this.clock = clock;
  }

  /** The first account, its workspace and the API token made by redeeming the bootstrap token. */
  record Redeemed(
      UUID accountId, String accountName, Workspace.Created workspace, IssuedToken apiToken) {}

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }

  private static byte[] hash(String token) {
    return Blake2b256.hash(token.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * At start, when the deployment has no owner yet: installs the configured token's hash, or on the
   * very first start generates a token. Answers the token to print once, "" when one was generated
   * at an earlier start, null when there is nothing to say.
   */
  Future<String> prepare(Optional<String> configured) {
    return db.withTransaction(
        conn ->
            store
                .used(conn)
                .compose(
                    used -> {
                      if (Boolean.TRUE.equals(used)) {
                        return Future.succeededFuture((String) null);
                      }
                      if (configured.isPresent()) {
                        return store
                            .configure(conn, hash(configured.get()), now())
                            .map(v -> (String) null);
                      }
                      if (used != null) {
                        return Future.succeededFuture("");
                      }
                      String token = PREFIX + SecureRandoms.urlSafeToken(32);
                      return store
                          .generated(conn, hash(token), now())
                          .map(stored -> stored ? token : "");
                    }));
  }

  Future<Redeemed> redeem(
      String sourceIp, String ipBucket, String token, String accountName, String workspaceName) {
    byte[] presented = token.getBytes(StandardCharsets.UTF_8);
    return limiter
        .guard(
            "too many failed attempts; try again later",
            e -> e instanceof Refusal.Unauthenticated,
            () ->
                tokens
                    .mint()
                    .compose(
                        minted ->
                            db.withTransaction(
                                conn ->
                                    store
                                        .forRedeem(conn)
                                        .compose(
                                            row -> {
                                              if (row == null) {
                                                return Future.failedFuture(invalid());
                                              }
                                              if (row.used()) {
                                                return Future.failedFuture(
                                                    Refusal.conflict(
                                                        Refusal.Conflict.Reason
                                                            .ALREADY_BOOTSTRAPPED,
                                                        "this deployment is already bootstrapped; log in with an API token"));
                                              }
                                              if (!Blake2b256.matches(presented, row.tokenHash())) {
                                                return Future.failedFuture(invalid());
                                              }
                                              return firstOwner(
                                                  conn, accountName, workspaceName, minted);
                                            }))),
            ipBucket)
        .onSuccess(
            r ->
                audit.memberDid(
                    sourceIp,
                    r.workspace().workspace().id(),
                    r.accountId(),
                    AuditAction.WORKSPACE_CREATED,
                    "deployment:bootstrap"))
        .onFailure(
            e -> {
              if (e instanceof Refusal.Unauthenticated) {
                audit.emit(
                    sourceIp,
                    null,
                    ActorKind.ACTOR_KIND_ANONYMOUS,
                    null,
                    AuditAction.TOKEN_REFUSED,
                    "deployment:bootstrap",
                    Outcome.OUTCOME_FAILURE);
              }
            });
  }

  private Future<Redeemed> firstOwner(
      SqlConnection conn, String accountName, String workspaceName, TokenStore.Minted minted) {
    UUID account = ids.next();
    UUID workspace = ids.next();
    OffsetDateTime now = now();
    return store
        .burn(conn, now)
        .compose(r -> Workspaces.createAccount(conn, account, accountName, now))
        .compose(
            r -> Workspaces.create(conn, ids, workspace, workspaceName, account, Role.OWNER, now))
        .compose(
            ws ->
                TokenStore.insert(
                        conn, ids.next(), account, "cli (bootstrap)", TokenScope.FULL, minted, now)
                    .map(tok -> new Redeemed(account, accountName, ws, tok)));
  }

  private static Refusal invalid() {
    return Refusal.unauthenticated(
        Refusal.Unauthenticated.Reason.INVALID_BOOTSTRAP_TOKEN, "bootstrap token is not valid");
  }
}
