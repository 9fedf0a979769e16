package dev.umbra.controlplane.inbox;

import dev.umbra.controlplane.devices.MachineRequest;
import dev.umbra.controlplane.devices.MachineRequestVerifier;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.http.ApiRoutes;
import dev.umbra.controlplane.http.ApiRoutes.Auth;
import dev.umbra.controlplane.http.Handlers;
import dev.umbra.controlplane.http.Schema;
import dev.umbra.controlplane.sharing.ShareKind;
import dev.umbra.controlplane.sharing.Shares;
import dev.umbra.controlplane.sharing.WorkAccess;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.kit.audit.AuditAction;
import dev.umbra.kit.audit.AuditActor;
import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.BusNames;
import dev.umbra.kit.db.Database;
import dev.umbra.kit.http.Requests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.SqlConnection;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Inbox items raised by a daemon for one of its agent sessions' runtimes (docs/agents.md, "Inbox
 * items from a runtime"): the daemon signs with its binding key, so the machine is the item's
 * author; the item is shared with the teams the machine is shared with (and seen by admins). The
 * daemon chose the item's id and signed it: a replayed request raises nothing more. It then waits
 * for the decision with a signed long poll that wakes on the item's bus channel, like an agent's.
 */
public final class MachineInbox {
  /** The largest item text a daemon sends (the item's own bounds are far below). */
  static final int MAX_ITEM_TEXT = 64 * 1024;

  private static final Pattern SESSION = Pattern.compile("[0-9A-Za-z-]{1,64}");
  private static final Set<String> MEMBERS =
      Set.of("id", "session_id", "kind", "question", "options", "default", "deadline_seconds");

  private final Vertx vertx;
  private final Bus bus;
  private final MachineRequestVerifier machines;
  private final Database db;
  private final InboxService inbox;
  private final InboxStore store;
  private final AuditEmitter audit;
  private final Clock clock;

  MachineInbox(
      Vertx vertx,
      Bus bus,
      MachineRequestVerifier machines,
      Database db,
      InboxService inbox,
      InboxStore store,
      AuditEmitter audit,
      Clock clock) {
    this.vertx = vertx;
    this.bus = bus;
    this.machines = machines;
    this.db = db;
    this.inbox = inbox;
    this.store = store;
    this.audit = audit;
    this.clock = clock;
  }

  void register(ApiRoutes routes) {
    routes
        .add(
            HttpMethod.POST,
            ControlPlanePaths.MACHINE_INBOX,
            "A machine raises an inbox item for one of its agent sessions' runtimes, signed with its binding key (shared with the machine's teams)",
            Auth.MACHINE_SIGNATURE,
            201,
            MachineRequest.schema()
                .required(
                    "item",
                    Schema.string(1, MAX_ITEM_TEXT)
                        .describe(
                            "JSON {id (chosen by the daemon), session_id, kind, question, options, default, deadline_seconds}"))
                .build()
                .describe(
                    "signature over \"umbra-machine-inbox/v1\\n<workspace_id>\\n<machine_id>\\n<timestamp_ms>\\n<item>\""),
            InboxRoutes.ITEM,
            Handlers.json(201, this::raise))
        .add(
            HttpMethod.POST,
            ControlPlanePaths.MACHINE_INBOX_DECISION,
            "A machine waits for the decision of an inbox item it raised (long poll, wait_seconds 0..60), signed with its binding key",
            Auth.MACHINE_SIGNATURE,
            200,
            MachineRequest.schema()
                .required("item_id", Schema.uuid())
                .required("wait_seconds", Schema.integer(0, InboxRoutes.MAX_WAIT_S))
                .build()
                .describe(
                    "signature over \"umbra-machine-inbox-decision/v1\\n<workspace_id>\\n<machine_id>\\n<timestamp_ms>\\n<item_id>\\n<wait_seconds>\""),
            InboxRoutes.ITEM,
            Handlers.json(200, this::await));
  }

  /** What a daemon raises: the id it chose, its session and the question. */
  record Raised(UUID id, String sessionId, InboxItem.Question question) {
    static Raised parse(String text) {
      JsonObject j;
      try {
        j = new JsonObject(text);
      } catch (DecodeException | ClassCastException e) {
        throw Refusal.invalid("item", "item must be a JSON object");
      }
      for (String k : j.fieldNames()) {
        if (!MEMBERS.contains(k)) {
          throw Refusal.invalid("item", "item has an unknown member " + k);
        }
      }
      UUID id = Requests.uuid(Requests.string(j, "id", 36, 36), "item");
      if (!(j.getValue("session_id") instanceof String session)
          || !SESSION.matcher(session).matches()) {
        throw Refusal.invalid("item", "session_id must be an agent session id");
      }
      return new Raised(id, session, InboxRules.question(j));
    }
  }

  private Future<JsonObject> raise(RoutingContext ctx) {
    MachineRequestVerifier.Incoming in = machines.read(ctx, "item");
    MachineRequest m = in.request();
    String text = Requests.string(in.body(), "item", 1, MAX_ITEM_TEXT);
    Raised r = Raised.parse(text);
    UUID wid = m.workspaceId();
    boolean[] fresh = {false};
    return signed(
            in,
            (w, mid, ts) -> MachineRequests.inbox(w, mid, ts, text),
            conn -> insert(conn, m, r, fresh))
        .map(
            s -> {
              if (fresh[0]) {
                audit
                    .event(AuditAction.INBOX_ITEM_RAISED)
                    .workspace(wid)
                    .actor(AuditActor.machine(m.machineId().toString()))
                    .target("inbox_item", r.id())
                    .request(ctx)
                    .meta("kind", r.question().kind())
                    .meta("machine", m.machineId().toString())
                    .meta("teams", Integer.toString(s.teamIds().size()))
                    .success()
                    .emit();
              }
              return InboxRoutes.json(s);
            });
  }

  private Future<InboxItem.Shared> insert(
      SqlConnection conn, MachineRequest m, Raised r, boolean[] fresh) {
    var now = WorkAccess.now(clock);
    return store
        .machineTeams(conn, m.machineId())
        .compose(
            teams ->
                store
                    .insert(
                        conn,
                        m.workspaceId(),
                        r.id(),
                        new InboxStore.Author(null, m.machineId(), r.sessionId()),
                        r.question(),
                        now.plusSeconds(r.question().deadlineSeconds()),
                        now)
                    .compose(
                        i -> {
                          if (i == null) {
                            return own(conn, m, r.id()); // a replay: the item as it is
                          }
                          fresh[0] = true;
                          return new Shares()
                              .grantAll(
                                  conn, m.workspaceId(), ShareKind.INBOX_ITEM, i.id(), teams, now)
                              .map(v -> i);
                        }))
        .compose(i -> inbox.shared(conn, i));
  }

  private Future<JsonObject> await(RoutingContext ctx) {
    MachineRequestVerifier.Incoming in = machines.read(ctx, "item_id", "wait_seconds");
    MachineRequest m = in.request();
    JsonObject body = in.body();
    UUID id = Requests.uuid(Requests.string(body, "item_id", 36, 36), "item_id");
    if (!(body.getValue("wait_seconds") instanceof Number n)
        || n.doubleValue() != n.intValue()
        || n.intValue() < 0
        || n.intValue() > InboxRoutes.MAX_WAIT_S) {
      throw Refusal.invalid(
          "wait_seconds", "wait_seconds must be an integer from 0 to " + InboxRoutes.MAX_WAIT_S);
    }
    int wait = n.intValue();
    Promise<Void> woke = Promise.promise();
    return bus.subscribe(BusNames.inboxItem(m.workspaceId(), id), x -> woke.tryComplete())
        .compose(
            sub ->
                signed(
                        in,
                        (w, mid, ts) -> MachineRequests.inboxDecision(w, mid, ts, id, wait),
                        conn -> own(conn, m, id))
                    .compose(
                        i -> {
                          if (!i.open() || wait == 0) {
                            return Future.succeededFuture(i);
                          }
                          long untilDeadline =
                              Duration.between(clock.instant(), i.deadline()).toMillis() + 1;
                          long ms = Math.max(1, Math.min(wait * 1000L, untilDeadline));
                          long timer = vertx.setTimer(ms, t -> woke.tryComplete());
                          // the machine was checked by this request already: read again unsigned
                          return woke.future()
                              .compose(
                                  v -> {
                                    vertx.cancelTimer(timer);
                                    return expiring(
                                        m.workspaceId(),
                                        db.inWorkspace(
                                            m.workspaceId(),
                                            conn ->
                                                store
                                                    .expire(conn, WorkAccess.now(clock))
                                                    .compose(
                                                        ex ->
                                                            own(conn, m, id)
                                                                .map(x -> new Due<>(x, ex)))));
                                  });
                        })
                    .eventually(sub::unsubscribe))
        .map(InboxRoutes::json);
  }

  /** The machine's signed request checked, the due items expired, then {@code work}. */
  private <T> Future<T> signed(
      MachineRequestVerifier.Incoming in,
      MachineRequestVerifier.Message message,
      Function<SqlConnection, Future<T>> work) {
    return expiring(
        in.workspaceId(),
        in.verified(
            message,
            conn ->
                store
                    .expire(conn, WorkAccess.now(clock))
                    .compose(ex -> work.apply(conn).map(v -> new Due<>(v, ex)))));
  }

  private record Due<T>(T value, List<InboxItem> expired) {}

  private <T> Future<T> expiring(UUID wid, Future<Due<T>> f) {
    return f.map(
        d -> {
          d.expired().forEach(i -> inbox.expired(wid, i));
          return d.value();
        });
  }

  /** The item if this machine raised it; 404 otherwise (another machine's, an agent's, none). */
  private Future<InboxItem> own(SqlConnection conn, MachineRequest m, UUID id) {
    return store
        .get(conn, id)
        .compose(
            i ->
                i != null && m.machineId().equals(i.machineId())
                    ? Future.succeededFuture(i)
                    : Future.failedFuture(Refusal.notFound("inbox item")));
  }
}
