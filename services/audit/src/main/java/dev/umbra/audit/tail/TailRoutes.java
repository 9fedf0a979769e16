package dev.umbra.audit.tail;

import dev.umbra.audit.access.AuditAuthorizer;
import dev.umbra.audit.access.AuditAuthorizer.Need;
import dev.umbra.audit.access.Caller;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.audit.AuditEventBuilder;
import dev.umbra.kit.audit.AuditEventRules;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.Requests;
import dev.umbra.kit.http.WebSockets;
import dev.umbra.proto.api.AuditPaths;
import dev.umbra.proto.api.PathTemplates;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/**
 * {@code GET /v1/workspaces/:workspace/audit/tail}: with {@code Upgrade: websocket} a WebSocket
 * (one text message per event), otherwise a Server-Sent Events stream of the workspace's events as
 * they are stored ({@code event: audit}, data = the event's JSON). Each client has a bounded send
 * queue; messages that do not fit are dropped, counted, and announced with {@code event: dropped}
 * ({@code {"dropped": n}}) once the queue drains. A comment line every 15 s keeps proxies from
 * closing an idle stream.
 */
public final class TailRoutes {
  public static final long KEEPALIVE_MS = 15_000;

  /** WebSocket close code when the tail's session is revoked (as the relay's). */
  public static final short CLOSE_REVOKED = 4003;

  private final Vertx vertx;
  private final AuditAuthorizer authorizer;
  private final LiveTail tail;
  private final AuditEmitter audit;
  private final int queueBytes;

  public TailRoutes(
      Vertx vertx, AuditAuthorizer authorizer, LiveTail tail, AuditEmitter audit, int queueBytes) {
    this.vertx = vertx;
    this.authorizer = authorizer;
    this.tail = tail;
    this.audit = audit;
    this.queueBytes = queueBytes;
  }

  public void mount(Router router) {
    router.get(PathTemplates.vertxRoute(AuditPaths.TAIL)).handler(this::sse);
  }

  private void sse(RoutingContext ctx) {
    UUID ws = Requests.uuidParam(ctx, "workspace");
    if ("websocket".equalsIgnoreCase(ctx.request().getHeader("upgrade"))) {
      WebSockets.upgradeAfter(
          ctx,
          () -> authorizer.authorize(ctx, ws, Need.TAIL),
          (socket, caller) -> webSocket(ctx, ws, caller, socket),
          e ->
              e instanceof ApiException api
                  ? api
                  : new ApiException(500, "internal", "internal error; see the service log"));
      return;
    }
    authorizer
        .authorize(ctx, ws, Need.TAIL)
        .onSuccess(
            caller -> {
              HttpServerResponse resp = ctx.response();
              resp.setChunked(true)
                  .setWriteQueueMaxSize(queueBytes)
                  .putHeader("content-type", "text/event-stream")
                  .putHeader("cache-control", "no-store")
                  .putHeader("x-accel-buffering", "no");
              SseClient client = new SseClient(resp, caller.session());
              long keepalive = vertx.setPeriodic(KEEPALIVE_MS, t -> client.comment("keepalive"));
              resp.endHandler(v -> vertx.cancelTimer(keepalive)); // ended by a revocation
              resp.closeHandler(
                  v -> {
                    vertx.cancelTimer(keepalive);
                    tail.remove(ws, client);
                  });
              tail.add(ws, client)
                  .onSuccess(
                      v -> {
                        client.comment("tail of " + ws);
                        opened(ctx, ws, caller);
                      })
                  .onFailure(e -> resp.reset());
            })
        .onFailure(ctx::fail);
  }

  /**
   * The same tail over a WebSocket: one text message per event, {@code {"dropped":n}} after drops,
   * a ping every {@link #KEEPALIVE_MS}. Upgraded by the kit only after the caller is authorized,
   * with the request paused meanwhile (the first upgrade after a start used to hang).
   */
  private void webSocket(RoutingContext ctx, UUID ws, Caller caller, ServerWebSocket socket) {
    socket.setWriteQueueMaxSize(queueBytes);
    WebSocketClient client = new WebSocketClient(socket, caller.session());
    long keepalive =
        vertx.setPeriodic(
            KEEPALIVE_MS,
            t -> {
              if (!socket.isClosed()) {
                socket.writePing(Buffer.buffer());
              }
            });
    socket.closeHandler(
        v -> {
          vertx.cancelTimer(keepalive);
          tail.remove(ws, client);
        });
    socket.handler(
        b -> {}); // the client has nothing to say; ignore what it sends (within the frame limit)
    tail.add(ws, client).onSuccess(v -> opened(ctx, ws, caller)).onFailure(e -> socket.close());
  }

  private void opened(RoutingContext ctx, UUID ws, Caller caller) {
    AuditEventBuilder b =
        audit
            .event(AuditAction.AUDIT_TAIL_OPENED)
            .actor(caller.actor())
            .target("audit_log", ws)
            .request(ctx);
    (ws.equals(AuditEventRules.DEPLOYMENT_WORKSPACE) ? b.deployment() : b.workspace(ws))
        .success()
        .emit();
  }

  /** One WebSocket; its queue is the socket's bounded write queue. */
  static final class WebSocketClient implements LiveTail.Client {
    private final ServerWebSocket socket;
    private final SessionClaims session;
    private long missed;

    WebSocketClient(ServerWebSocket socket, SessionClaims session) {
      this.socket = socket;
      this.session = session;
    }

    @Override
    public SessionClaims session() {
      return session;
    }

    @Override
    public void revoked() {
      socket.close(CLOSE_REVOKED, "revoked");
    }

    @Override
    public boolean offer(String json) {
      if (socket.isClosed() || socket.writeQueueFull()) {
        missed++;
        return false;
      }
      if (missed > 0) {
        socket.writeTextMessage("{\"dropped\":" + missed + "}");
        missed = 0;
      }
      socket.writeTextMessage(json);
      return true;
    }
  }

  /** One SSE connection; its queue is the response's bounded write queue. */
  static final class SseClient implements LiveTail.Client {
    private final HttpServerResponse resp;
    private final SessionClaims session;
    private long missed;

    SseClient(HttpServerResponse resp, SessionClaims session) {
      this.resp = resp;
      this.session = session;
    }

    @Override
    public SessionClaims session() {
      return session;
    }

    @Override
    public void revoked() {
      if (!resp.closed() && !resp.ended()) {
        resp.write("event: revoked\ndata: {}\n\n");
        resp.end();
      }
    }

    @Override
    public boolean offer(String json) {
      if (resp.closed() || resp.ended() || resp.writeQueueFull()) {
        missed++;
        return false;
      }
      if (missed > 0) {
        resp.write("event: dropped\ndata: {\"dropped\":" + missed + "}\n\n");
        missed = 0;
      }
      resp.write("event: audit\ndata: " + json + "\n\n");
      return true;
    }

    void comment(String text) {
      if (!resp.closed() && !resp.ended() && !resp.writeQueueFull()) {
        resp.write(": " + text + "\n\n");
      }
    }
  }
}
