package dev.umbra.audit.query;

import dev.umbra.audit.access.AuditAuthorizer;
import dev.umbra.audit.access.AuditAuthorizer.Need;
import dev.umbra.audit.access.Caller;
import dev.umbra.audit.chain.ChainVerifier;
import dev.umbra.audit.chain.StoredEvent;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.audit.AuditEventBuilder;
import dev.umbra.kit.audit.AuditEventRules;
import dev.umbra.kit.http.Requests;
import dev.umbra.kit.http.ServiceHttp;
import dev.umbra.proto.api.AuditPaths;
import dev.umbra.proto.api.PathTemplates;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/**
 * {@code GET /v1/workspaces/:workspace/audit/events} (filters and cursor pages), {@code
 * .../audit/export} (JSON lines, streamed with back-pressure) and {@code .../audit/verify} (names
 * the first broken link). Export and verify are audited.
 */
public final class QueryRoutes {
  private static final int EXPORT_PAGE = 1_000;

  private final AuditAuthorizer authorizer;
  private final EventQueries queries;
  private final ChainVerifier verifier;
  private final AuditEmitter audit;

  public QueryRoutes(
      AuditAuthorizer authorizer,
      EventQueries queries,
      ChainVerifier verifier,
      AuditEmitter audit) {
    this.authorizer = authorizer;
    this.queries = queries;
    this.verifier = verifier;
    this.audit = audit;
  }

  public void mount(Router router) {
    router.get(PathTemplates.vertxRoute(AuditPaths.EVENTS)).handler(this::events);
    router.get(PathTemplates.vertxRoute(AuditPaths.EXPORT)).handler(this::export);
    router.get(PathTemplates.vertxRoute(AuditPaths.VERIFY)).handler(this::verify);
  }

  private void events(RoutingContext ctx) {
    UUID ws = Requests.uuidParam(ctx, "workspace");
    EventFilter filter = EventFilter.parse(ctx.queryParams(), EventFilter.MAX_LIMIT, "desc");
    authorizer
        .authorize(ctx, ws, Need.READ)
        .compose(caller -> queries.page(ws, filter))
        .onSuccess(
            page -> {
              JsonArray events = new JsonArray();
              page.events().forEach(e -> events.add(e.toJson()));
              ServiceHttp.json(
                  ctx,
                  200,
                  new JsonObject().put("events", events).put("next_cursor", page.nextCursor()));
            })
        .onFailure(ctx::fail);
  }

  private void export(RoutingContext ctx) {
    UUID ws = Requests.uuidParam(ctx, "workspace");
    EventFilter filter =
        EventFilter.parse(ctx.queryParams(), Integer.MAX_VALUE, "asc").withLimit(EXPORT_PAGE);
    authorizer
        .authorize(ctx, ws, Need.READ)
        .onSuccess(
            caller -> {
              record(AuditAction.AUDIT_EXPORTED, ws, caller, ctx).success().emit();
              HttpServerResponse resp = ctx.response();
              resp.setChunked(true)
                  .putHeader("content-type", "application/x-ndjson")
                  .putHeader(
                      "content-disposition", "attachment; filename=\"audit-" + ws + ".jsonl\"");
              exportPage(ctx, ws, filter);
            })
        .onFailure(ctx::fail);
  }

  private void exportPage(RoutingContext ctx, UUID ws, EventFilter filter) {
    HttpServerResponse resp = ctx.response();
    queries
        .page(ws, filter)
        .onSuccess(
            page -> {
              if (resp.closed()) {
                return;
              }
              for (StoredEvent e : page.events()) {
                resp.write(e.toJson().encode() + "\n");
              }
              if (page.nextCursor() == null) {
                resp.end();
                return;
              }
              EventFilter next =
                  filter.withAfter(page.events().get(page.events().size() - 1).seq());
              if (resp.writeQueueFull()) {
                resp.drainHandler(v -> exportPage(ctx, ws, next));
              } else {
                exportPage(ctx, ws, next);
              }
            })
        .onFailure(e -> resp.reset()); // headers are sent: a cut stream is the only honest signal
  }

  private void verify(RoutingContext ctx) {
    UUID ws = Requests.uuidParam(ctx, "workspace");
    authorizer
        .authorize(ctx, ws, Need.READ)
        .compose(
            caller ->
                verifier
                    .verify(ws)
                    .map(
                        r -> {
                          AuditEventBuilder ev =
                              record(AuditAction.AUDIT_VERIFIED, ws, caller, ctx)
                                  .meta("checked", Long.toString(r.checked()));
                          (r.ok()
                                  ? ev.success()
                                  : ev.failure(r.firstBroken().reason())
                                      .meta("broken_seq", Long.toString(r.firstBroken().seq())))
                              .emit();
                          return r;
                        }))
        .onSuccess(r -> ServiceHttp.json(ctx, 200, r.toJson()))
        .onFailure(ctx::fail);
  }

  private AuditEventBuilder record(AuditAction action, UUID ws, Caller caller, RoutingContext ctx) {
    AuditEventBuilder b =
        audit.event(action).actor(caller.actor()).target("audit_log", ws).request(ctx);
    return ws.equals(AuditEventRules.DEPLOYMENT_WORKSPACE) ? b.deployment() : b.workspace(ws);
  }
}
