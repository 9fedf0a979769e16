package dev.umbra.controlplane.messaging;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Page;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.notify.AuditOutbox;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.audit.AuditEventBuilder;
import dev.umbra.kit.auth.SessionClaims;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.Requests;
import dev.umbra.kit.http.WebSockets;
import dev.umbra.proto.api.ControlPlanePaths;
import dev.umbra.proto.audit.AuditEvent;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Conversation and message routes, and the live socket (docs/messaging.md); schemas in {@link
 * MessagingSchemas}.
 */
final class MessageRoutes {
  static final int MAX_CIPHERTEXT = 64 * 1024;
  static final int MAX_COPIES = 10;
  static final int MAX_PAGE = 100;

  private final Parties parties;
  private final MessageService messages;
  private final LiveDelivery live;
  private final AuditEmitter audit;
  private final Notifier notifier;
  private final SendGroups groups;
  private final AuditOutbox outbox;
  private final StageTimers stages;

  MessageRoutes(
      Parties parties,
      MessageService messages,
      LiveDelivery live,
      AuditEmitter audit,
      Notifier notifier,
      AuditOutbox outbox,
      StageTimers stages) {
    this.parties = parties;
    this.messages = messages;
    this.live = live;
    this.audit = audit;
    this.notifier = notifier;
    this.stages = stages;
    this.outbox = outbox;
    this.groups = new SendGroups(parties.db(), messages, notifier, outbox);
  }

  void register(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.POST,
            ControlPlanePaths.CONVERSATIONS,
            "Open (or find) the conversation of the caller with an agent or a member",
            Auth.SESSION_TOKEN,
            200,
            MessagingSchemas.CONVERSATION_OPEN,
            MessagingSchemas.CONVERSATION,
            Handlers.json(200, this::open))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.CONVERSATIONS,
            "List the caller's conversations",
            Auth.SESSION_TOKEN,
            200,
            Schema.NO_BODY,
            Schema.page(MessagingSchemas.CONVERSATION),
            Handlers.json(200, this::list))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.CONVERSATION_RECIPIENTS,
            "The principals of the other side a message must be encrypted for, one copy each",
            Auth.SESSION_TOKEN,
            200,
            Schema.NO_BODY,
            MessagingSchemas.RECIPIENTS,
            Handlers.json(200, this::recipients));
    registerMessages(routes);
  }

  /** The message routes and the live socket (the hot paths: mounted before the others). */
  private void registerMessages(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.POST,
            ControlPlanePaths.MESSAGES,
            "Send a message: one ciphertext per recipient (idempotent by id)",
            Auth.SESSION_TOKEN,
            200,
            MessagingSchemas.SEND,
            MessagingSchemas.SENT,
            Handlers.json(200, this::send))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.MESSAGES_BATCH,
            "Send up to 64 messages in one request, each answered in its place (docs/messaging.md)",
            Auth.SESSION_TOKEN,
            200,
            MessagingSchemas.SEND_BATCH,
            MessagingSchemas.SENT_BATCH,
            Handlers.json(200, this::sendBatch))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.MESSAGES,
            "The caller's pending messages, oldest first (polling fallback)",
            Auth.SESSION_TOKEN,
            200,
            Schema.NO_BODY,
            MessagingSchemas.PENDING,
            Handlers.json(200, this::pending))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.MESSAGE_ACKS,
            "Acknowledge messages: deletes the caller's copies (idempotent)",
            Auth.SESSION_TOKEN,
            200,
            MessagingSchemas.ACK,
            MessagingSchemas.ACKED,
            Handlers.json(200, this::ack))
        .add(
            HttpMethod.GET,
            ControlPlanePaths.MESSAGES_LIVE,
            "WebSocket: new messages pushed live (docs/messaging.md, protocol)",
            Auth.SESSION_TOKEN,
            101,
            Schema.NO_BODY,
            Schema.anyObject(
                "switches to WebSocket; server frames {\"type\":\"ready\"|\"message\"|\"acked\"|\"pong\"}"),
            this::upgrade)
        // the paths of every send, push ack and poll: before the ~80 other routes (ApiRoutes)
        .mountFirst(HttpMethod.POST, ControlPlanePaths.MESSAGES)
        .mountFirst(HttpMethod.POST, ControlPlanePaths.MESSAGES_BATCH)
        .mountFirst(HttpMethod.POST, ControlPlanePaths.MESSAGE_ACKS)
        .mountFirst(HttpMethod.GET, ControlPlanePaths.MESSAGES);
  }

  private Future<JsonObject> open(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx, "agent_id", "account_id");
    return parties
        .as(
            ctx,
            (conn, p) -> {
              String field = p.kind() == Party.Kind.DEVICE ? "agent_id" : "account_id";
              if (body.size() != 1 || !body.containsKey(field)) {
                throw ApiException.badRequest(
                    field, "a " + p.kind().wire() + " opens a conversation with " + field);
              }
              UUID peer = Requests.uuid(Requests.string(body, field, 36, 36), field);
              return messages.open(conn, p, peer);
            })
        .map(MessageStore.Conversation::toJson);
  }

  private Future<JsonObject> list(RoutingContext ctx) {
    Page page = Page.of(ctx);
    return parties
        .as(ctx, (conn, p) -> messages.conversations(conn, p, page.after(), page.fetch()))
        .map(l -> page.render(l, MessageStore.Conversation::id, MessageStore.Conversation::toJson));
  }

  private Future<JsonObject> recipients(RoutingContext ctx) {
    UUID conversation = Requests.uuidParam(ctx, "conversation_id");
    return parties
        .as(ctx, (conn, p) -> messages.recipients(conn, p, conversation))
        .map(
            list -> {
              JsonArray items = new JsonArray();
              list.forEach(
                  r ->
                      items.add(
                          new JsonObject()
                              .put("kind", r.kind().wire())
                              .put("id", r.id().toString())));
              return new JsonObject().put("items", items);
            });
  }

  private Future<JsonObject> send(RoutingContext ctx) {
    long entered = entered(ctx);
    SendBatch.Send send =
        SendBatch.Send.parse(Requests.body(ctx, "id", "conversation_id", "copies"));
    return stored(ctx, send, store(ctx, List.of(send)).getFirst(), entered);
  }

  /**
   * Now ({@link System#nanoTime}): a send route was entered, its request read and authenticated;
   * times {@link StageTimers.Stage#ANSWERED} from here to the answer's end.
   */
  private long entered(RoutingContext ctx) {
    long entered = System.nanoTime();
    ctx.addEndHandler(ar -> stages.since(StageTimers.Stage.ANSWERED, entered));
    return entered;
  }

  /**
   * Stores one send through the group commit, then publishes its notices, queues its webhook signal
   * and audits it (each send its own {@code agent.message.sent} event, batched or not); answers
   * {@code {"id","stored","duplicates"}}.
   */
  private List<Future<SendGroups.Done>> store(RoutingContext ctx, List<SendBatch.Send> sends) {
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    SessionClaims claims = MessagingAuth.claims(ctx);
    List<AuditEvent> audits = new ArrayList<>(sends.size());
    for (SendBatch.Send s : sends) {
      audits.add(sentEvent(ctx, wid, claims, s));
    }
    return groups.sendAll(wid, claims, sends, audits);
  }

  /**
   * The send's {@code agent.message.sent} event, prepared before its transaction writes it down
   * ({@link AuditOutbox}): the copies and bytes the send carries; after the commit they become the
   * copies stored (a resend stores only the new ones) and the actor the sender as PostgreSQL found
   * it (an agent's machine). Null for a send its token alone refuses (it is never stored).
   */
  private AuditEvent sentEvent(
      RoutingContext ctx, UUID wid, SessionClaims claims, SendBatch.Send send) {
    Party claimed;
    try {
      claimed = MessagingAuth.claimed(wid, claims);
    } catch (Refusal e) {
      return null;
    }
    long bytes = 0;
    for (byte[] c : send.copies().values()) {
      bytes += c.length;
    }
    AuditEventBuilder b =
        audit
            .event(AuditAction.AGENT_MESSAGE_SENT)
            .workspace(wid)
            .target("message", send.id())
            .meta("conversation", send.conversation().toString())
            .meta("sender", claimed.id().toString())
            .meta("copies", Integer.toString(send.copies().size()))
            .meta("bytes", Long.toString(bytes))
            .request(ctx)
            .success();
    if (claimed.kind() == Party.Kind.DEVICE) {
      b.actor(claimed.auditActor()); // an agent's actor is its machine, known after the checks
    }
    return b.prepare();
  }

  /**
   * A stored send's answer, and what follows its commit (see {@link #store}): its notices, webhook
   * signal and audit event go out in the event loop's next task, after this one has written the
   * answer (a batch's too, when its sends were stored together), so the sender is not kept waiting
   * for their writes; never before the commit, and a failure of them cannot turn the stored send
   * into an error.
   */
  private Future<JsonObject> stored(
      RoutingContext ctx, SendBatch.Send send, Future<SendGroups.Done> done, long entered) {
    UUID id = send.id();
    return done.map(
        e -> {
          MessageService.Sent s = e.sent();
          long storedAt = System.nanoTime();
          stages.since(StageTimers.Stage.STORED, entered);
          ctx.vertx().getOrCreateContext().runOnContext(v -> afterCommit(ctx, send, e, storedAt));
          return new JsonObject()
              .put("id", id.toString())
              .put("stored", s.stored().size())
              .put("duplicates", s.duplicates());
        });
  }

  private void afterCommit(
      RoutingContext ctx, SendBatch.Send send, SendGroups.Done e, long storedAt) {
    UUID id = send.id();
    Party p = e.party();
    MessageService.Sent s = e.sent();
    s.stored().forEach(r -> live.publish(p.workspaceId(), r, id, s.copies().get(r), storedAt));
    notifier.queued(p.workspaceId(), e.notification());
    if (!s.stored().isEmpty()) {
      AuditEvent event =
          e.audit().toBuilder()
              .setActor(p.auditActor().toProto())
              .putMetadata("copies", Integer.toString(s.stored().size()))
              .putMetadata("bytes", Long.toString(s.bytes()))
              .build();
      audit
          .emitPrepared(event)
          .onSuccess(appended -> outbox.emitted(p.workspaceId(), event.getId()));
    }
  }

  /**
   * Several sends in one request (docs/messaging.md, "Batches"): each stored as if sent alone, in
   * the batch's order, and answered in its place — its result, or its own refusal.
   */
  private Future<JsonObject> sendBatch(RoutingContext ctx) {
    long entered = entered(ctx);
    SendBatch batch = SendBatch.parse(ctx.body() == null ? null : ctx.body().asString());
    List<SendBatch.Send> sends = new ArrayList<>();
    batch.items().stream().filter(i -> i.send() != null).forEach(i -> sends.add(i.send()));
    List<Future<SendGroups.Done>> done = store(ctx, sends);
    List<Future<JsonObject>> each = new ArrayList<>(batch.items().size());
    int next = 0;
    for (SendBatch.Item item : batch.items()) {
      Future<JsonObject> f =
          item.send() == null
              ? Future.failedFuture(item.refused())
              : stored(ctx, item.send(), done.get(next++), entered);
      each.add(f.recover(e -> Future.succeededFuture(refused(item.id(), e))));
    }
    return Future.all(each)
        .map(
            all -> {
              JsonArray results = new JsonArray();
              each.forEach(f -> results.add(f.result()));
              return new JsonObject().put("results", results);
            });
  }

  /** A message of a batch refused alone: its id (null if unreadable) and the error it would get. */
  private static JsonObject refused(UUID id, Throwable e) {
    ApiException a = MessagingAuth.toApi(e);
    JsonObject error =
        new JsonObject()
            .put("status", a.status())
            .put("code", a.code())
            .put("message", a.getMessage());
    if (a.field() != null) {
      error.put("field", a.field());
    }
    return new JsonObject().put("id", id == null ? null : id.toString()).put("error", error);
  }

  private Future<JsonObject> pending(RoutingContext ctx) {
    long after = longParam(ctx, "after", 0);
    int limit = (int) longParam(ctx, "limit", 50);
    if (limit < 1 || limit > MAX_PAGE) {
      throw ApiException.badRequest("limit", "limit must be an integer from 1 to " + MAX_PAGE);
    }
    return parties
        .as(ctx, (conn, p) -> messages.pending(conn, p, after, limit + 1))
        .map(
            rows -> {
              JsonArray items = new JsonArray();
              for (int i = 0; i < Math.min(limit, rows.size()); i++) {
                items.add(rows.get(i).toJson());
              }
              Long next = rows.size() > limit ? rows.get(limit - 1).seq() : null;
              return new JsonObject().put("items", items).put("next_after", next);
            });
  }

  private static long longParam(RoutingContext ctx, String name, long dflt) {
    String v = ctx.request().getParam(name);
    if (v == null) {
      return dflt;
    }
    try {
      long n = Long.parseLong(v);
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw ApiException.badRequest(name, name + " must be a non-negative integer");
    }
  }

  private Future<JsonObject> ack(RoutingContext ctx) {
    JsonObject body = Requests.body(ctx, "ids");
    Object v = body.getValue("ids");
    if (!(v instanceof JsonArray a) || a.isEmpty() || a.size() > LiveFrames.MAX_ACK_IDS) {
      throw ApiException.badRequest(
          "ids", "ids must be an array of 1 to " + LiveFrames.MAX_ACK_IDS + " message ids");
    }
    List<UUID> ids = new ArrayList<>();
    for (Object o : a) {
      ids.add(Requests.uuid(o instanceof String s ? s : null, "ids"));
    }
    UUID wid = Requests.uuidParam(ctx, "workspace_id");
    return MessageStore.ack(parties.db(), wid, MessagingAuth.claims(ctx), ids)
        .map(
            acked -> {
              readAudit(audit, acked.party(), ids.size(), acked.deleted());
              return new JsonObject().put("deleted", acked.deleted());
            });
  }

  static void readAudit(AuditEmitter audit, Party p, int asked, int deleted) {
    if (deleted == 0) {
      return;
    }
    audit
        .event(AuditAction.AGENT_MESSAGE_READ)
        .workspace(p.workspaceId())
        .actor(p.auditActor())
        .target(p.kind().wire(), p.id())
        .meta("acknowledged", Integer.toString(asked))
        .meta("deleted", Integer.toString(deleted))
        .success()
        .emit();
  }

  static UUID uuid(String s) {
    return Requests.uuid(s, "ids");
  }

  private void upgrade(RoutingContext ctx) {
    if (!WebSockets.isUpgrade(ctx.request())) {
      ctx.fail(ApiException.badRequest(null, "this endpoint speaks WebSocket only"));
      return;
    }
    var claims = MessagingAuth.claims(ctx);
    String frames = ctx.request().getParam("frames");
    if (frames != null && !frames.equals("batch")) {
      ctx.fail(ApiException.badRequest("frames", "frames is batch or absent"));
      return;
    }
    boolean batched = frames != null;
    WebSockets.upgradeAfter(
        ctx,
        () -> parties.as(ctx, (conn, p) -> Future.succeededFuture(p)),
        (ws, party) -> live.attach(ws, party, claims, batched),
        MessagingAuth::toApi);
  }
}
