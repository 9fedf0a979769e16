package dev.umbra.controlplane.messaging;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.RefusalMapper;
import dev.umbra.controlplane.sessions.SigningKeys;
import dev.umbra.kit.auth.InvalidSessionException;
import dev.umbra.kit.auth.KeySetFetches;
import dev.umbra.kit.auth.RevocationCheck;
import dev.umbra.kit.auth.SessionAuth;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.auth.SessionClaimsMemo;
import dev.umbra.kit.auth.SessionVerifier;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.WebSockets;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

/**
 * Authentication of the messaging routes and socket (docs/messaging.md, "Authentication"): a
 * control-plane session token ({@code Authorization: Bearer <jwt>}, audience {@code control-plane})
 * bound to a trusted device of a member, or an agent's token, verified with this deployment's
 * signing keys and the service's revocation list; then, in the request's transaction, the device
 * must still be trusted and its account a member, or the agent approved and its machine not revoked
 * (fail closed: a token alone is never enough).
 */
public final class MessagingAuth {
  public static final String AUDIENCE = "control-plane";
  private static final String KEY = "umbra.messaging.claims";
  private static final Duration MIN_REFRESH = SessionVerifier.MIN_REFRESH;

  private final SigningKeys keys;
  private final RevocationCheck revocations;
  private final Clock clock;
  private final BrowserBearer browsers;

  /** Tokens parsed and checked once per token (SessionClaimsMemo). */
  private static final int REMEMBERED_TOKENS = 10_000;

  private volatile Map<String, PublicKey> known = Map.of();
  private final SessionClaimsMemo tokens = new SessionClaimsMemo(AUDIENCE, REMEMBERED_TOKENS);

  /** This deployment's signing keys read again for a token naming a key not known here. */
  private final KeySetFetches fetches;

  public MessagingAuth(
      Vertx vertx,
      SigningKeys keys,
      RevocationCheck revocations,
      Clock clock,
      BrowserBearer browsers) {
    this.keys = keys;
    this.revocations = revocations;
    this.clock = clock;
    this.browsers = browsers;
    this.fetches =
        new KeySetFetches(
            vertx,
            clock,
            MIN_REFRESH,
            () -> keys.jwks().map(j -> known = SessionVerifier.parseKeySet(j.encode())).mapEmpty());
  }

  /**
   * The request's token: the {@code Authorization} header, else (a WebSocket upgrade of the browser
   * app only, {@link BrowserBearer}) the one its page offered as a subprotocol.
   */
  private Future<String> token(RoutingContext ctx) {
    String header = SessionAuth.bearer(ctx);
    if (header != null || !WebSockets.isUpgrade(ctx.request())) {
      return Future.succeededFuture(header);
    }
    try {
      return Future.succeededFuture(browsers.offered(ctx));
    } catch (ApiException e) {
      return Future.failedFuture(e);
    }
  }

  /**
   * The handler mounted in front of every messaging route: verifies the token before anything of
   * the request is read, keeping the request paused so the socket route can still upgrade.
   */
  public Handler<RoutingContext> first() {
    return ctx ->
        WebSockets.nextAfter(
            ctx,
            () ->
                token(ctx)
                    .compose(this::verify)
                    .map(
                        c -> {
                          String wid = ctx.pathParam("workspace_id");
                          if (wid != null && !wid.equalsIgnoreCase(c.workspaceId().toString())) {
                            throw new ApiException(
                                403,
                                "forbidden",
                                "this session token is for another workspace",
                                "workspace_id");
                          }
                          ctx.put(KEY, c);
                          return c;
                        }));
  }

  /** The claims {@link #first} verified. */
  public static SessionClaims claims(RoutingContext ctx) {
    SessionClaims c = ctx.get(KEY);
    if (c == null) {
      throw new IllegalStateException("MessagingAuth did not run");
    }
    return c;
  }

  /** Verifies a bearer token; fails with 401 (invalid) or 403 {@code revoked}. */
  public Future<SessionClaims> verify(String token) {
    if (token == null) {
      return Future.failedFuture(
          ApiException.unauthorized(
              "a control-plane session token is required (Authorization: Bearer ...)"));
    }
    // checked first (the memo parses a token once, not on every request); only a token refused
    // as signed by a key not known here (another instance's, or a rotation since) reads the keys
    // again, then is checked again; PostgreSQL away while they are read is unavailability
    return check(token)
        .recover(
            e -> {
              String kid = e instanceof InvalidSessionException ? keyIdOrNull(token) : null;
              if (kid == null || known.containsKey(kid)) {
                return Future.failedFuture(e);
              }
              return fetches
                  .startedAfterNow(() -> known.containsKey(kid))
                  .transform(
                      ar ->
                          ar.failed() && !known.containsKey(kid)
                              ? Future.<SessionClaims>failedFuture(ar.cause())
                              : check(token));
            })
        .recover(
            e ->
                Future.failedFuture(
                    e instanceof InvalidSessionException
                        ? ApiException.unauthorized(e.getMessage())
                        : e));
  }

  /** The key a token names; null when it names none or is no well-formed token. */
  private static String keyIdOrNull(String token) {
    try {
      return SessionVerifier.keyId(token);
    } catch (InvalidSessionException e) {
      return null;
    }
  }

  private Future<SessionClaims> check(String token) {
    try {
      // parsed and verified once per token; key, expiry and revocation checked on every request
      SessionClaims c = tokens.check(token, known, clock.instant());
      if (revocations.isRevoked(c)) {
        return Future.failedFuture(new ApiException(403, "revoked", "this session was revoked"));
      }
      return Future.succeededFuture(c);
    } catch (InvalidSessionException e) {
      return Future.failedFuture(e);
    }
  }

  /**
   * The party behind {@code c} in workspace {@code wid}, checked in the transaction of {@code
   * conn}: {@link #claimed}, and the principal must be active now.
   */
  public static Future<Party> party(SqlConnection conn, UUID wid, SessionClaims c) {
    Party p;
    try {
      p = claimed(wid, c);
    } catch (Refusal e) {
      return Future.failedFuture(e);
    }
    if (p.kind() == Party.Kind.AGENT) {
      return conn.preparedQuery(
              "SELECT a.machine_id FROM agents a JOIN machines m ON m.id = a.machine_id"
                  + " WHERE a.id = $1 AND a.status = 'approved' AND m.revoked_at IS NULL")
          .execute(Tuple.of(p.id()))
          .compose(
              rows ->
                  rows.size() == 0
                      ? Future.failedFuture(notActive(Party.Kind.AGENT))
                      : Future.succeededFuture(
                          new Party(
                              wid,
                              Party.Kind.AGENT,
                              p.id(),
                              null,
                              rows.iterator().next().getUUID("machine_id"))));
    }
    return conn.preparedQuery(
            "SELECT 1 FROM devices d JOIN members m ON m.account_id = d.account_id"
                + " WHERE d.id = $1 AND d.account_id = $2 AND d.status = 'trusted'")
        .execute(Tuple.of(p.id(), p.accountId()))
        .compose(
            rows ->
                rows.size() == 0
                    ? Future.failedFuture(notActive(Party.Kind.DEVICE))
                    : Future.succeededFuture(p));
  }

  /**
   * The party {@code c} claims in workspace {@code wid}, before anything is read (an agent's
   * machine is not known yet: null): a token for another workspace is refused (403), a member
   * session must be bound to a device. Whether the principal is still active is for PostgreSQL to
   * check ({@link #party}, or {@code message_send} for a send).
   */
  static Party claimed(UUID wid, SessionClaims c) {
    if (!c.workspaceId().equals(wid)) {
      throw Refusal.notAllowed(
          Refusal.NotAllowed.Reason.OTHER_WORKSPACE,
          "this session token is for another workspace",
          "workspace_id");
    }
    if (c.subjectKind() == SubjectKind.AGENT) {
      return new Party(wid, Party.Kind.AGENT, UUID.fromString(c.subject()), null, null);
    }
    if (c.subjectKind() != SubjectKind.MEMBER || c.deviceId().isEmpty()) {
      throw notActive("messaging needs a session bound to a trusted device (device_id)");
    }
    return new Party(
        wid,
        Party.Kind.DEVICE,
        UUID.fromString(c.deviceId().get()),
        UUID.fromString(c.subject()),
        null);
  }

  /** The refusal of a party whose principal is no longer active. */
  static Refusal notActive(Party.Kind kind) {
    return notActive(
        kind == Party.Kind.AGENT
            ? "the agent is not approved or was revoked"
            : "the device is not trusted or was revoked");
  }

  private static Refusal notActive(String message) {
    return Refusal.notAllowed(Refusal.NotAllowed.Reason.PRINCIPAL_NOT_ACTIVE, message, null);
  }

  /** The HTTP error of a failure (for the socket route, which answers before upgrading). */
  static ApiException toApi(Throwable e) {
    Throwable t = RefusalMapper.toHttp(e);
    return t instanceof ApiException a
        ? a
        : ApiException.unavailable("messaging is unavailable right now; try again");
  }
}
