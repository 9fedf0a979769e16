package dev.umbra.controlplane.workspaces;

import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.auth.Principal;
import dev.umbra.controlplane.auth.TokenScope;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.tokens.IssuedToken;
import dev.umbra.controlplane.tokens.TokenStore;
import dev.umbra.crypto.secret.Blake2b256;
import dev.umbra.crypto.secret.SecureRandoms;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.FailureLimiter;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.db.Database;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

/**
 * Invitations: an admin creates one (the {@code umi_} token is shown once and stored as its
 * BLAKE2b-256 hash), lists and cancels them; the invitee redeems one once, within {@link
 * #VALIDITY}, as a new account (getting an API token) or as their own account. A token that is
 * unknown, used, cancelled or expired gets one answer ({@code invalid_invitation}) and counts as a
 * failed attempt of its source address.
 */
final class InvitationService {
  static final String PREFIX = "umi_";
  static final Duration VALIDITY = Duration.ofDays(7);

  private final Database db;
  private final Tenancy tenancy;
  private final InvitationStore store;
  private final TokenStore tokens;
  private final FailureLimiter limiter;
  private final AuditTrail audit;
  private final Ids ids;
  private final Clock clock;

  InvitationService(
      Database db,
      Tenancy tenancy,
      InvitationStore store,
      TokenStore tokens,
      FailureLimiter limiter,
      AuditTrail audit,
      Ids ids,
      Clock clock) {
    this.db = db;
    this.tenancy = tenancy;
    this.store = store;
    this.tokens = tokens;
    this.limiter = limiter;
    this.audit = audit;
    this.ids = ids;
    this.clock = clock;
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }

  Future<Invitation.Created> create(Caller caller, UUID wid, Role role, String note) {
    String token = PREFIX + SecureRandoms.urlSafeToken(32);
    byte[] hash = Blake2b256.hash(token.getBytes(StandardCharsets.US_ASCII));
    UUID id = ids.next();
    OffsetDateTime now = now();
    return tenancy
        .asMember(
            caller.principal(),
            wid,
            Role.ADMIN,
            (conn, m) ->
                store.add(
                    conn, wid, id, hash, role.wire(), note, m.memberId(), now, now.plus(VALIDITY)))
        .map(inv -> new Invitation.Created(inv, token))
        .onSuccess(
            c ->
                audit.memberDid(
                    caller.sourceIp(),
                    wid,
                    caller.accountId(),
                    AuditAction.MEMBER_INVITED,
                    "invitation:" + id));
  }

  Future<List<Invitation>> page(Caller caller, UUID wid, UUID after, int limit) {
    return tenancy.asMember(
        caller.principal(), wid, Role.ADMIN, (conn, m) -> store.page(conn, after, limit));
  }

  Future<Void> cancel(Caller caller, UUID wid, UUID id) {
    AuditTrail.Recorded audited =
        audit.memberWill(caller, wid, AuditAction.INVITE_REVOKED, "invitation:" + id);
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.ADMIN,
        audited,
        (conn, m) ->
            store
                .cancel(conn, wid, id, now())
                .compose(
                    done ->
                        done
                            ? Future.<Void>succeededFuture()
                            : Future.<Void>failedFuture(Refusal.notFound("invitation"))));
  }

  /**
   * Redeems {@code token} as the account {@code invitee} authenticates (still under way: a blocked
   * address is refused first) or, when it yields null, as a new account named {@code accountName}
   * with its first API token. Failed attempts are limited per {@code ipBucket}.
   */
  Future<Invitation.Accepted> accept(
      Future<Principal> invitee,
      String sourceIp,
      String ipBucket,
      String token,
      String accountName) {
    String hashHex =
        HexFormat.of().formatHex(Blake2b256.hash(token.getBytes(StandardCharsets.UTF_8)));
    return limiter
        .guard(
            "too many failed attempts; try again later",
            e ->
                e instanceof Refusal.NotFound n
                    && n.reason() == Refusal.NotFound.Reason.INVALID_INVITATION,
            () ->
                invitee.compose(
                    p ->
                        (p == null
                                ? tokens.mint()
                                : Future.<TokenStore.Minted>succeededFuture(null))
                            .compose(
                                minted ->
                                    db.withTransaction(
                                        conn ->
                                            store
                                                .usable(conn, hashHex, now())
                                                .compose(
                                                    inv ->
                                                        inv == null
                                                            ? Future.failedFuture(
                                                                Refusal.notFound(
                                                                    Refusal.NotFound.Reason
                                                                        .INVALID_INVITATION,
                                                                    "invitation",
                                                                    "invitation is invalid, used, cancelled or expired"))
                                                            : redeem(
                                                                    conn,
                                                                    inv,
                                                                    p,
                                                                    accountName,
                                                                    minted)
                                                                .compose(
                                                                    a ->
                                                                        joined(sourceIp, a)
                                                                            .writtenDown(
                                                                                conn, a)))))),
            ipBucket)
        .map(AuditTrail.Done::committed);
  }

  /**
   * The new member's joining, written down in the transaction that made it a member (who may do
   * what changed: docs/audit.md, "Written down before appended").
   */
  private AuditTrail.Recorded joined(String sourceIp, Invitation.Accepted a) {
    return audit.memberWill(
        sourceIp,
        a.workspaceId(),
        a.accountId(),
        AuditAction.MEMBER_JOINED,
        "member:" + a.memberId());
  }

  /**
   * Makes the member (and the account, for a new one) of a usable invitation and marks it accepted.
   */
  private Future<Invitation.Accepted> redeem(
      SqlConnection conn,
      Invitation.Usable inv,
      Principal invitee,
      String accountName,
      TokenStore.Minted minted) {
    UUID wid = inv.workspaceId();
    UUID account = invitee == null ? ids.next() : invitee.accountId();
    UUID member = ids.next();
    OffsetDateTime now = now();
    Future<Void> newAccount =
        invitee == null
            ? Workspaces.createAccount(conn, account, accountName, now)
            : Future.succeededFuture();
    return newAccount
        .compose(v -> Tenancy.enter(conn, wid))
        .compose(v -> Tenancy.membership(conn, wid, account))
        .compose(
            existing ->
                existing != null
                    ? Future.failedFuture(
                        Refusal.conflict(
                            Refusal.Conflict.Reason.ALREADY_MEMBER,
                            "already a member of this workspace"))
                    : Workspaces.addMember(conn, member, wid, account, inv.role(), now))
        .compose(v -> store.markAccepted(conn, inv.id(), now, member))
        .compose(v -> store.workspaceName(conn, wid))
        .compose(
            name ->
                (minted == null
                        ? Future.<IssuedToken>succeededFuture(null)
                        : TokenStore.insert(
                            conn,
                            ids.next(),
                            account,
                            "cli (invitation)",
                            TokenScope.FULL,
                            minted,
                            now))
                    .map(t -> new Invitation.Accepted(account, member, inv.role(), wid, name, t)));
  }
}
