package dev.umbra.controlplane.sharing;

import dev.umbra.controlplane.auth.ApiTokens;
import dev.umbra.controlplane.auth.Authenticator;
import dev.umbra.controlplane.auth.TokenScope;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.messaging.MessagingAuth;
import dev.umbra.controlplane.messaging.Party;
import dev.umbra.controlplane.workspaces.Membership;
import dev.umbra.controlplane.workspaces.Tenancy;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SessionAuth;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.http.ClientAddress;
import dev.umbra.kit.http.Requests;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.SqlConnection;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;
import java.util.function.BiFunction;

/**
 * Runs agent-work requests as their {@link Actor}, checked in the request's own transaction with
 * the route's workspace set (docs/agents.md, "Access"). A member's API token (a read-only one acts
 * as a viewer and may not write), or a session token of a member's trusted device (refused once the
 * device is revoked) or of an approved agent (refused once the agent or its machine is revoked).
 * Not a member looks like a workspace that does not exist (404), as everywhere.
 */
public final class WorkAccess {
  private final Database db;
  private final Authenticator auth;
  private final Shares shares = new Shares();

  public WorkAccess(Database db, Authenticator auth) {
    this.db = db;
    this.auth = auth;
  }

  /** A refusal of something the actor's role, credential or kind does not allow (403). */
  public static Refusal refused(String message) {
    return Refusal.notAllowed(Refusal.NotAllowed.Reason.ROLE_TOO_LOW, message, null);
  }

  /** The clock's time as stored. */
  public static OffsetDateTime now(Clock clock) {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }

  public Shares shares() {
    return shares;
  }

  /**
   * The handler mounted in front of the routes of {@code Auth.API_OR_SESSION_TOKEN}: an API token
   * goes to the API-token check, anything else to the session-token check.
   */
  public static Handler<RoutingContext> first(
      Handler<RoutingContext> apiToken, Handler<RoutingContext> sessionToken) {
    return ctx -> {
      if (isApiToken(ctx)) {
        apiToken.handle(ctx);
      } else {
        sessionToken.handle(ctx);
      }
    };
  }

  private static boolean isApiToken(RoutingContext ctx) {
    String bearer = SessionAuth.bearer(ctx);
    return bearer != null && bearer.startsWith(ApiTokens.PREFIX);
  }

  /** The request's way to run work as its actor. */
  public AsActor of(RoutingContext ctx) {
    return new AsActor() {
      @Override
      public <T> Future<T> run(boolean write, BiFunction<SqlConnection, Actor, Future<T>> work) {
        return as(ctx, write, work);
      }
    };
  }

  /**
   * {@code work} in the route's workspace as the request's actor; {@code write}: an API token must
   * be of full scope.
   */
  public <T> Future<T> as(
      RoutingContext ctx, boolean write, BiFunction<SqlConnection, Actor, Future<T>> work) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    String ip = ClientAddress.forAudit(ctx);
    if (isApiToken(ctx)) {
      return auth.authenticate(ctx, write)
          .compose(
              p ->
                  db.inWorkspace(
                      wid,
                      conn ->
                          Tenancy.membership(conn, wid, p.accountId())
                              .compose(
                                  m ->
                                      m == null
                                          ? Future.failedFuture(Refusal.notFound("workspace"))
                                          : work.apply(
                                              conn, member(m, p.scope() == TokenScope.FULL, ip)))));
    }
    var claims = MessagingAuth.claims(ctx);
    return db.inWorkspace(
        wid,
        conn ->
            MessagingAuth.party(conn, wid, claims)
                .compose(
                    party ->
                        party.kind() == Party.Kind.AGENT
                            ? work.apply(conn, Actor.agent(party.id(), party.machineId(), ip))
                            : Tenancy.membership(conn, wid, party.accountId())
                                .compose(
                                    m ->
                                        m == null
                                            ? Future.failedFuture(Refusal.notFound("workspace"))
                                            : work.apply(conn, member(m, true, ip)))));
  }

  private static Actor member(Membership m, boolean fullScope, String ip) {
    Role role = fullScope ? m.role() : Role.VIEWER;
    return Actor.member(m.accountId(), m.memberId(), role, fullScope, ip);
  }

  /**
   * Whether {@code actor} may see the resource: an admin always, its author, or a member of a team
   * it is shared with.
   */
  public Future<Boolean> maySee(
      SqlConnection conn, Actor actor, ShareKind kind, UUID id, boolean isAuthor) {
    if (actor.isAdmin() || isAuthor) {
      return Future.succeededFuture(true);
    }
    if (actor.isAgent()) {
      return Future.succeededFuture(false);
    }
    return shares.sharedWith(conn, kind, id, actor.memberId());
  }
}
