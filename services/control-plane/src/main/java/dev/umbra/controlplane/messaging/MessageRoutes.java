package dev.umbra.controlplane.messaging;

import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Page;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.auth.SubjectKind;
import dev.umbra.kit.http.ApiException;
import dev.umbra.kit.http.Requests;
import dev.umbra.kit.http.WebSockets;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

  MessageRoutes(
      Parties parties,
      MessageService messages,
      LiveDelivery live,
      AuditEmitter audit,
      Notifier notifier) {
    this.parties = parties;
    this.messages = messages;
    this.live = live;
    this.audit = audit;
    this.notifier = notifier;
    this.groups = new SendGroups(parties.db(), messages, notifier);
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
            Handlers.json(200, this::recipients))
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
    JsonObject body = Requests.body(ctx, "id", "conversation_id", "copies");
    UUID id = Requests.uuid(Requests.string(body, "id", 36, 36), "id");
    UUID conversation =
        Requests.uuid(Requests.string(body, "conversation_id", 36, 36), "conversation_id");
    Map<UUID, byte[]> copies = copies(body);
    var claims = MessagingAuth.claims(ctx);
    Party.Kind senderKind =
        claims.subjectKind() == SubjectKind.AGENT ? Party.Kind.AGENT : Party.Kind.DEVICE;
    return groups
        .send(Requests.uuidParam(ctx, "workspace_id"), claims, senderKind, id, conversation, copies)
        .map(
            e -> {
              Party p = e.party();
              MessageService.Sent s = e.sent();
              s.stored().forEach(r -> live.publish(p.workspaceId(), r, id));
              notifier.queued(p.workspaceId(), e.notification());
              if (!s.stored().isEmpty()) {
                audit
                    .event(AuditAction.AGENT_MESSAGE_SENT)
                    .workspace(p.workspaceId())
                    .actor(LiveDelivery.actor(p))
                    .target("message", id)
                    .meta("conversation", conversation.toString())
                    .meta("sender", p.id().toString())
                    .meta("copies", Integer.toString(s.stored().size()))
                    .meta("bytes", Long.toString(s.bytes()))
                    .request(ctx)
                    .success()
                    .emit();
              }
              return new JsonObject()
                  .put("id", id.toString())
                  .put("stored", s.stored().size())
                  .put("duplicates", s.duplicates());
            });
  }

  static Map<UUID, byte[]> copies(JsonObject body) {
    Object v = body.getValue("copies");
    if (!(v instanceof JsonArray a) || a.isEmpty() || a.size() > MAX_COPIES) {
      throw ApiException.badRequest(
          "copies", "copies must be an array of 1 to " + MAX_COPIES + " copies");
    }
    Map<UUID, byte[]> out = new LinkedHashMap<>();
    for (Object o : a) {
      if (!(o instanceof JsonObject c)) {
        throw ApiException.badRequest("copies", "each copy is an object");
      }
      for (String f : c.fieldNames()) {
        if (!f.equals("recipient_id") && !f.equals("ciphertext")) {
          throw ApiException.badRequest("copies", "unknown field '" + f + "' in a copy");
        }
      }
      UUID r = Requests.uuid(Requests.string(c, "recipient_id", 36, 36), "recipient_id");
      if (out.put(r, Parties.bytes(c, "ciphertext", 1, MAX_CIPHERTEXT)) != null) {
        throw ApiException.badRequest("copies", "one copy per recipient");
      }
    }
    return out;
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
    if (!(v instanceof JsonArray a) || a.isEmpty() || a.size() > LiveDelivery.MAX_ACK_IDS) {
      throw ApiException.badRequest(
          "ids", "ids must be an array of 1 to " + LiveDelivery.MAX_ACK_IDS + " message ids");
    }
    List<UUID> ids = new ArrayList<>();
    for (Object o : a) {
      ids.add(Requests.uuid(o instanceof String s ? s : null, "ids"));
    }
    return parties
        .as(ctx, (conn, p) -> messages.ack(conn, p, ids).map(n -> Map.entry(p, n)))
        .map(
            e -> {
              readAudit(audit, e.getKey(), ids.size(), e.getValue());
              return new JsonObject().put("deleted", e.getValue());
            });
  }

  static void readAudit(AuditEmitter audit, Party p, int asked, int deleted) {
    if (deleted == 0) {
      return;
    }
    audit
        .event(AuditAction.AGENT_MESSAGE_READ)
        .workspace(p.workspaceId())
        .actor(LiveDelivery.actor(p))
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
    WebSockets.upgradeAfter(
        ctx,
        () -> parties.as(ctx, (conn, p) -> Future.succeededFuture(p)),
        (ws, party) -> live.attach(ws, party, claims),
        MessagingAuth::toApi);
  }
}
