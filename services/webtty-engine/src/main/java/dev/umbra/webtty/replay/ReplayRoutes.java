package dev.umbra.webtty.replay;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.auth.SessionAuth;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.ServiceHttp;
import dev.umbra.proto.api.PathTemplates;
import dev.umbra.proto.api.WebTtyPaths;
import dev.umbra.proto.webtty.RecordedEvent;
import dev.umbra.proto.webtty.RecordingHeader;
import dev.umbra.webtty.recording.RecordingStore;
import dev.umbra.webtty.wire.WebTtyWire;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;

/**
 * The recordings API (docs/webtty.md): list a workspace's sessions, and replay one as a stream of
 * varint-length-delimited protobuf messages (one {@link RecordingHeader}, then every {@link
 * RecordedEvent} in sequence order), paged from PostgreSQL with the response's backpressure. Only
 * ciphertext and crypto metadata leave; the client decrypts with its own key.
 *
 * <p>Who may: admins and owners see every session of their workspace, members the sessions they
 * opened; machines none.
 */
public final class ReplayRoutes {
  public static final String CONTENT_TYPE = "application/vnd.umbra.webtty-recording";
  private static final int PAGE = 500;

  private final RecordingStore store;
  private final AuditEmitter audit;

  public ReplayRoutes(RecordingStore store, AuditEmitter audit) {
    this.store = store;
    this.audit = audit;
  }

  public void mount(Router router, SessionAuth auth) {
    router.get(WebTtyWire.RECORDINGS_PATH).handler(auth).handler(this::list);
    router.get(PathTemplates.vertxRoute(WebTtyPaths.RECORDING)).handler(auth).handler(this::replay);
  }

  private static SessionClaims member(RoutingContext ctx) {
    SessionClaims c = SessionAuth.claims(ctx);
    if (c.subjectKind() != SubjectKind.MEMBER || !c.role().atLeast(Role.MEMBER)) {
      throw ApiException.forbidden("recordings are for workspace members");
    }
    return c;
  }

  private static boolean admin(SessionClaims c) {
    return c.role().atLeast(Role.ADMIN);
  }

  private void list(RoutingContext ctx) {
    SessionClaims c = member(ctx);
    int limit = 50;
    String l = ctx.request().getParam("limit");
    if (l != null) {
      try {
        limit = Integer.parseInt(l);
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > 500) {
        throw ApiException.badRequest("limit", "limit must be an integer between 1 and 500");
      }
    }
    store
        .list(c.workspaceId(), admin(c) ? null : c.subject(), limit)
        .onSuccess(
            rows -> {
              JsonArray out = new JsonArray();
              for (var r : rows) {
                out.add(
                    new JsonObject()
                        .put("session_id", r.sessionId())
                        .put("server_id", r.serverId())
                        .put("opened_by", r.openedBy())
                        .put("recording", r.recording())
                        .put("started_at", r.startedAt().toString())
                        .put("ended_at", r.endedAt() == null ? null : r.endedAt().toString())
                        .put("end_reason", r.endReason())
                        .put("exit_status", r.exitStatus())
                        .put("events", r.eventCount())
                        .put("ciphertext_bytes", r.ciphertextBytes()));
              }
              ServiceHttp.json(ctx, 200, new JsonObject().put("sessions", out));
            })
        .onFailure(ctx::fail);
  }

  private void replay(RoutingContext ctx) {
    SessionClaims c = member(ctx);
    String id = ctx.pathParam("session");
    if (!WebTtyWire.validId(id)) {
      throw ApiException.badRequest("session", "not a session id");
    }
    boolean export = "export".equals(ctx.request().getParam("purpose"));
    store
        .session(c.workspaceId(), id)
        .onSuccess(
            rec -> {
              if (rec == null || (!admin(c) && !rec.row().openedBy().equals(c.subject()))) {
                // another workspace's session looks exactly like a missing one
                ctx.fail(ApiException.notFound("recording"));
                return;
              }
              RecordingHeader header;
              try {
                header =
                    RecordingHeader.parseFrom(rec.header()).toBuilder()
                        .setEndedUnixMs(
                            rec.row().endedAt() == null ? 0 : rec.row().endedAt().toEpochMilli())
                        .build();
              } catch (InvalidProtocolBufferException e) {
                ctx.fail(e);
                return;
              }
              audit
                  .event(export ? AuditAction.RECORDING_EXPORTED : AuditAction.RECORDING_REPLAYED)
                  .workspace(c.workspaceId())
                  .actor(AuditActor.member(c.subject()))
                  .target("session", id)
                  .request(ctx)
                  .success()
                  .emit();
              HttpServerResponse resp =
                  ctx.response()
                      .setChunked(true)
                      .putHeader("content-type", CONTENT_TYPE)
                      .putHeader("cache-control", "no-store");
              resp.write(delimited(List.of(header)))
                  .compose(v -> page(resp, c, id, 0))
                  .onComplete(
                      ar -> {
                        if (ar.succeeded()) {
                          resp.end();
                        } else {
                          resp.reset();
                        }
                      });
            })
        .onFailure(ctx::fail);
  }

  private Future<Void> page(HttpServerResponse resp, SessionClaims c, String id, long after) {
    return store
        .events(c.workspaceId(), id, after, PAGE)
        .compose(
            events -> {
              if (events.isEmpty()) {
                return Future.succeededFuture();
              }
              long last = events.get(events.size() - 1).getSequence();
              return resp.write(delimited(events))
                  .compose(
                      v ->
                          events.size() < PAGE
                              ? Future.succeededFuture()
                              : page(resp, c, id, last));
            });
  }

  static Buffer delimited(List<? extends MessageLite> messages) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      for (MessageLite m : messages) {
        m.writeDelimitedTo(out);
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return Buffer.buffer(out.toByteArray());
  }
}
