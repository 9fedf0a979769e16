package dev.umbra.kit.http;

import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.ext.web.RoutingContext;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one way a route of ours turns a request into a WebSocket after an asynchronous check (a
 * session token verified against a key set that may have to be fetched, a database lookup).
 *
 * <p>The request is paused before the check: a GET upgrade has no body, and when the check
 * completes on a later event-loop turn the request has already been read to its end by then; Vert.x
 * then no longer upgrades it and the client waits for a 101 that never comes. That was the audit
 * tail's first upgrade after a start (the key set not cached yet, so the check was asynchronous).
 * With the request paused, the upgrade works however long the check takes.
 */
public final class WebSockets {
  private static final Logger log = LoggerFactory.getLogger(WebSockets.class);

  /** RFC 6455 close code: a frame or message larger than the endpoint accepts. */
  public static final short CLOSE_TOO_BIG = 1009;

  public static final String TOO_BIG_REASON = "message_too_big";

  private WebSockets() {}

  /**
   * An exception handler for {@code ws} that answers a frame or message over the server's limit
   * with close 1009 and a reason (the decoder alone would drop the connection without a close
   * frame), after handing every exception to {@code next}. Services that set their own exception
   * handler wrap it in this.
   */
  public static Handler<Throwable> closingTooBig(ServerWebSocket ws, Handler<Throwable> next) {
    return e -> {
      next.handle(e);
      if (isTooBig(e) && !ws.isClosed()) {
        ws.close(CLOSE_TOO_BIG, TOO_BIG_REASON);
      }
    };
  }

  /** Whether the WebSocket failed because a frame or message was larger than the limit. */
  public static boolean isTooBig(Throwable e) {
    if (e instanceof CorruptedWebSocketFrameException c) {
      return c.closeStatus() != null && c.closeStatus().code() == CLOSE_TOO_BIG;
    }
    // Vert.x's message aggregator (fragmented messages over maxWebSocketMessageSize)
    return e instanceof IllegalStateException
        && e.getMessage() != null
        && e.getMessage().contains("overflow max message size");
  }

  /**
   * A route handler step that runs an asynchronous {@code check} (typically authentication) and
   * then passes the request on with {@code ctx.next()}, keeping the request paused meanwhile so a
   * WebSocket upgrade further down the chain still finds it unread (see the class comment). A
   * request that is not an upgrade is resumed before it is passed on; a failed check fails the
   * context and resumes the request so the connection can serve the next one.
   */
  public static <T> void nextAfter(RoutingContext ctx, Supplier<Future<T>> check) {
    HttpServerRequest req = ctx.request();
    req.pause();
    started(check)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                ctx.fail(ar.cause());
                req.resume();
                return;
              }
              if (!isUpgrade(req)) {
                req.resume();
              }
              ctx.next();
            });
  }

  /** Whether {@code req} asks to become a WebSocket. */
  public static boolean isUpgrade(HttpServerRequest req) {
    String upgrade = req.getHeader("upgrade");
    return upgrade != null && upgrade.equalsIgnoreCase("websocket");
  }

  /**
   * Pauses the request, runs {@code check}; on success upgrades and hands the socket to {@code
   * accept}, on failure answers with the JSON error {@code refusal} makes of the cause (no
   * WebSocket is ever opened for a refused check).
   */
  public static <T> void upgradeAfter(
      RoutingContext ctx,
      Supplier<Future<T>> check,
      BiConsumer<ServerWebSocket, T> accept,
      Function<Throwable, ApiException> refusal) {
    HttpServerRequest req = ctx.request();
    req.pause();
    started(check)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                ServiceHttp.sendError(ctx, refusal.apply(ar.cause()));
                req.resume(); // read the (empty) rest, so the connection is free for its next
                // request
                return;
              }
              req.toWebSocket()
                  .onSuccess(
                      ws -> {
                        ConnectionGuard.upgraded(ctx, ws);
                        ws.exceptionHandler(
                            closingTooBig(
                                ws, e -> log.debug("WebSocket failed: {}", e.toString())));
                        accept.accept(ws, ar.result());
                      })
                  .onFailure(e -> log.debug("WebSocket upgrade failed: {}", e.getMessage()));
            });
  }

  /** The future {@code check} returns, or a failed one when it throws instead. */
  private static <T> Future<T> started(Supplier<? extends Future<T>> check) {
    try {
      return check.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }
}
