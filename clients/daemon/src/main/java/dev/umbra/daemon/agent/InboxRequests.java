package dev.umbra.daemon.agent;

import dev.umbra.client.agent.AgentFrame;
import dev.umbra.client.agent.AgentFrames;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * A session's inbox requests (docs/agents.md, "Inbox items from a runtime"): each {@code
 * inbox_request} a runtime writes is raised on the control plane by the daemon ({@link AgentInbox},
 * signed with the binding key) on a thread of its own; the session then shows {@code inbox_raised
 * {id, item_id}} and, once a member decided (or the deadline gave the default), {@code
 * inbox_decision {id, status, answer}} — both as session frames to the watchers and as lines on the
 * runtime's stdin. A request the daemon cannot raise or follow ends in {@code inbox_decision
 * {status: failed, reason}}: the runtime decides what to do then. The item's text is stored by the
 * control plane (by design); the runtime must not put secrets in it.
 */
final class InboxRequests {
  /** Requests of one session waiting at once. */
  static final int MAX_OPEN = 16;

  /** One long-poll's wait: within the daemon's 30 s request timeout. */
  static final int WAIT_S = 20;

  /** How long past its deadline the daemon still asks for an item's decision. */
  static final Duration GRACE = Duration.ofSeconds(60);

  private static final long MIN_BACKOFF_MS = 500;
  private static final long MAX_BACKOFF_MS = 10_000;

  /** What the requests need of their session. */
  interface Session {
    String id();

    boolean live();

    /** Numbers the frame, keeps it and shows it to the watchers. */
    void publish(AgentFrame f);

    /** Writes the frame to the runtime's stdin (blocking while it is full). */
    void toRuntime(AgentFrame f);
  }

  private final Session session;
  private final AgentInbox inbox;
  private final Clock clock;
  private final Set<String> open = ConcurrentHashMap.newKeySet();

  InboxRequests(Session session, AgentInbox inbox, Clock clock) {
    this.session = session;
    this.inbox = inbox;
    this.clock = clock;
  }

  /** A runtime's (parsed) {@code inbox_request}: raised and followed on a thread of its own. */
  void request(AgentFrame f) {
    String id = f.text("id");
    if (open.size() >= MAX_OPEN) {
      answer(failed(id, AgentInbox.Reason.LIMIT_REACHED));
      return;
    }
    if (!open.add(id)) {
      answer(failed(id, AgentInbox.Reason.DUPLICATE_ID));
      return;
    }
    Thread.ofVirtual().start(() -> follow(id, f.json()));
  }

  private void follow(String id, JsonObject request) {
    try {
      answer(decide(id, request));
    } finally {
      open.remove(id);
    }
  }

  private AgentFrame decide(String id, JsonObject request) {
    Instant giveUp = clock.instant().plusSeconds(request.getLong("deadline_seconds")).plus(GRACE);
    UUID item = UUID.randomUUID();
    long backoff = MIN_BACKOFF_MS;
    while (true) {
      try {
        inbox.raise(item, session.id(), request);
        break;
      } catch (AgentInbox.Failed e) {
        if (!e.retryable() || !clock.instant().isBefore(giveUp) || !session.live()) {
          return failed(id, e.reason());
        }
        backoff = pause(backoff);
      }
    }
    answer(
        AgentFrames.of(
            AgentFrames.Type.INBOX_RAISED,
            new JsonObject().put("id", id).put("item_id", item.toString())));
    backoff = MIN_BACKOFF_MS;
    while (session.live()) {
      try {
        AgentInbox.State s = inbox.await(item, WAIT_S);
        if (!s.open()) {
          JsonObject d = new JsonObject().put("id", id).put("status", s.status());
          if (s.answer() != null) {
            d.put("answer", s.answer());
          }
          return AgentFrames.of(AgentFrames.Type.INBOX_DECISION, d);
        }
        backoff = MIN_BACKOFF_MS;
      } catch (AgentInbox.Failed e) {
        if (!e.retryable()) {
          return failed(id, e.reason());
        }
        backoff = pause(backoff);
      }
      if (!clock.instant().isBefore(giveUp)) {
        return failed(id, AgentInbox.Reason.UNREACHABLE);
      }
    }
    return null;
  }

  private static long pause(long ms) {
    LockSupport.parkNanos(ms * 1_000_000);
    return Math.min(ms * 2, MAX_BACKOFF_MS);
  }

  private static AgentFrame failed(String id, AgentInbox.Reason reason) {
    return AgentFrames.of(
        AgentFrames.Type.INBOX_DECISION,
        new JsonObject().put("id", id).put("status", "failed").put("reason", reason.wire()));
  }

  private void answer(AgentFrame f) {
    if (f == null || !session.live()) {
      return;
    }
    session.publish(f);
    session.toRuntime(f);
  }
}
