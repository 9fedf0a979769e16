package dev.umbra.controlplane.workspaces;

import dev.umbra.controlplane.auth.Caller;
import dev.umbra.controlplane.auth.Principal;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.errors.Refusal.NotAllowed.Reason;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.notify.AuditTrail;
import dev.umbra.controlplane.notify.RevocationNotices;
import dev.umbra.controlplane.sessions.SessionIssuer;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.kit.db.Database;
import dev.umbra.proto.bus.RevokedKind;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Workspaces, their members and members' session tokens (docs/control-plane.md): who may rename,
 * change roles and remove (admins; only owners touch owners; a workspace keeps an owner), and what
 * a session token names.
 */
final class WorkspaceService {
  private final Database db;
  private final Tenancy tenancy;
  private final WorkspaceStore store;
  private final AuditTrail audit;
  private final RevocationNotices revocations;
  private final SessionIssuer issuer;
  private final Ids ids;
  private final Clock clock;

  WorkspaceService(
      Database db,
      Tenancy tenancy,
      WorkspaceStore store,
      AuditTrail audit,
      RevocationNotices revocations,
      SessionIssuer issuer,
      Ids ids,
      Clock clock) {
    this.db = db;
    this.tenancy = tenancy;
    this.store = store;
    this.audit = audit;
    this.revocations = revocations;
    this.issuer = issuer;
    this.ids = ids;
    this.clock = clock;
  }

  /** The caller's account name. */
  Future<String> accountName(Principal p) {
    return db.withTransaction(conn -> store.accountName(conn, p.accountId()));
  }

  /** A new workspace with the caller as its owner. */
  Future<Workspace.Created> create(Caller caller, String name) {
    return db.withTransaction(
            conn ->
                Workspaces.create(
                    conn, ids, ids.next(), name, caller.accountId(), Role.OWNER, now()))
        .onSuccess(
            c ->
                audit.memberDid(
                    caller.sourceIp(),
                    c.workspace().id(),
                    caller.accountId(),
                    AuditAction.WORKSPACE_CREATED,
                    "workspace:" + c.workspace().id()));
  }

  Future<List<Workspace>> workspacesOf(Caller caller, UUID after, int limit) {
    return db.withTransaction(conn -> store.workspacesOf(conn, caller.accountId(), after, limit));
  }

  Future<Workspace.Seen> get(Caller caller, UUID wid) {
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.VIEWER,
        (conn, m) -> store.workspace(conn, wid).map(w -> new Workspace.Seen(w, m)));
  }

  Future<Workspace.Seen> rename(Caller caller, UUID wid, String name) {
    return tenancy
        .asMember(
            caller.principal(),
            wid,
            Role.ADMIN,
            (conn, m) ->
                store
                    .rename(conn, wid, name)
                    .compose(x -> store.workspace(conn, wid))
                    .map(w -> new Workspace.Seen(w, m)))
        .onSuccess(
            s ->
                audit.memberDid(
                    caller.sourceIp(),
                    wid,
                    caller.accountId(),
                    AuditAction.WORKSPACE_UPDATED,
                    "workspace:" + wid));
  }

  Future<List<Member>> members(Caller caller, UUID wid, UUID after, int limit) {
    return tenancy.asMember(
        caller.principal(), wid, Role.VIEWER, (conn, m) -> store.members(conn, after, limit));
  }

  /**
   * The target member (not found when not in this workspace) once the caller may manage them: only
   * an owner manages an owner.
   */
  private Future<Member> manageable(SqlConnection conn, Membership caller, UUID memberId) {
    return store
        .lockMember(conn, memberId)
        .compose(
            target -> {
              if (target == null) {
                return Future.failedFuture(Refusal.notFound("member"));
              }
              if (target.role() == Role.OWNER && caller.role() != Role.OWNER) {
                return Future.failedFuture(
                    Refusal.notAllowed(
                        Reason.OWNER_ONLY, "only an owner may change or remove an owner", null));
              }
              return Future.succeededFuture(target);
            });
  }

  /** Refuses to take away the last owner. */
  private Future<Void> keepAnOwner(SqlConnection conn, Member target) {
    if (target.role() != Role.OWNER) {
      return Future.succeededFuture();
    }
    return store
        .owners(conn)
        .compose(
            n ->
                n <= 1
                    ? Future.failedFuture(
                        Refusal.conflict(
                            Refusal.Conflict.Reason.LAST_OWNER,
                            "a workspace keeps at least one owner"))
                    : Future.succeededFuture());
  }

  Future<Member> changeRole(Caller caller, UUID wid, UUID memberId, Role role) {
    AuditTrail.Recorded audited =
        audit.memberWill(caller, wid, AuditAction.MEMBER_ROLE_CHANGED, "member:" + memberId);
    return tenancy.asMember(
        caller.principal(),
        wid,
        Role.ADMIN,
        audited,
        (conn, m) -> {
          if (role == Role.OWNER && m.role() != Role.OWNER) {
            return Future.failedFuture(
                Refusal.notAllowed(Reason.OWNER_ONLY, "only an owner may make an owner", null));
          }
          return manageable(conn, m, memberId)
              .compose(
                  target ->
                      role == Role.OWNER
                          ? Future.<Void>succeededFuture()
                          : keepAnOwner(conn, target))
              .compose(v -> store.setRole(conn, memberId, role))
              .compose(v -> store.member(conn, memberId));
        });
  }

  Future<Void> remove(Caller caller, UUID wid, UUID memberId) {
    AuditTrail.Recorded audited =
        audit.memberWill(caller, wid, AuditAction.MEMBER_REMOVED, "member:" + memberId);
    return tenancy
        .asMember(
            caller.principal(),
            wid,
            Role.ADMIN,
            audited,
            (conn, m) ->
                manageable(conn, m, memberId)
                    .compose(
                        target ->
                            keepAnOwner(conn, target)
                                .compose(v -> store.remove(conn, wid, target))
                                .map(target)))
        // committed: the account's sessions in the workspace are void (sessions carry the account,
        // not the member id)
        .onSuccess(
            target -> {
              revocations.revoked(
                  RevokedKind.REVOKED_KIND_MEMBER, wid, memberId.toString(), target.accountId());
            })
        .mapEmpty();
  }

  /** A session token issued to a member, with the role it carries. */
  record Session(SessionIssuer.Issued issued, Role role) {}

  /**
   * Issues a member's session token. It names the API token of the request ({@code tid}) and, when
   * {@code device} names a trusted device of the caller in this workspace, that device and its
   * credential's keyset version ({@code did}, {@code ksv}), so revoking the device or rotating the
   * keyset past that version voids it too (docs/device-trust.md).
   */
  Future<Session> session(Caller caller, UUID wid, String audience, Optional<UUID> device) {
    Principal p = caller.principal();
    return tenancy
        .asMember(
            p,
            wid,
            Role.VIEWER,
            (conn, m) ->
                boundDevice(conn, p, device)
                    .map(
                        with -> {
                          SessionIssuer.Issued t =
                              issuer.issue(
                                  wid,
                                  p.accountId().toString(),
                                  SubjectKind.MEMBER,
                                  m.role(),
                                  audience,
                                  with);
                          return new Session(t, m.role());
                        }))
        .onSuccess(
            s ->
                audit.memberDid(
                    caller.sourceIp(),
                    wid,
                    caller.accountId(),
                    AuditAction.SESSION_ISSUED,
                    "audience:" + audience));
  }

  private Future<SessionIssuer.MintedWith> boundDevice(
      SqlConnection conn, Principal p, Optional<UUID> device) {
    if (device.isEmpty()) {
      return Future.succeededFuture(new SessionIssuer.MintedWith(p.tokenId(), null, 0));
    }
    return store
        .device(conn, device.get())
        .compose(
            d -> {
              if (d == null
                  || !p.accountId().equals(d.accountId())
                  || !"trusted".equals(d.status())
                  || d.keysetVersion() == null) {
                return Future.failedFuture(
                    Refusal.notAllowed(
                        Reason.NOT_A_TRUSTED_DEVICE_OF_YOURS,
                        "device_id is not a trusted device of yours in this workspace",
                        null));
              }
              return Future.succeededFuture(
                  new SessionIssuer.MintedWith(p.tokenId(), device.get(), d.keysetVersion()));
            });
  }

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }
}
