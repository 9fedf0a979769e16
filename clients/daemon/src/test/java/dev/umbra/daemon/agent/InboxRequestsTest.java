package dev.umbra.daemon.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.client.agent.AgentFrame;
import dev.umbra.client.agent.AgentFrames;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A runtime's inbox requests as the daemon follows them (docs/agents.md, "Inbox items from a
 * runtime"): raised once under an id the daemon chose, the raise shown, the decision shown and
 * written to the runtime; a control plane that cannot be reached is asked again, one that refuses
 * ends the request with {@code failed}; a repeated or one-too-many request fails at once.
 */
class InboxRequestsTest {

  /** The session as the requests see it: what was shown and what the runtime got, in order. */
  static final class FakeSession implements InboxRequests.Session {
    final BlockingQueue<JsonObject> shown = new LinkedBlockingQueue<>();
    final BlockingQueue<JsonObject> toRuntime = new LinkedBlockingQueue<>();
    volatile boolean live = true;

    @Override
    public String id() {
      return "20261205T090000Z-0123456789ab";
    }

    @Override
    public boolean live() {
      return live;
    }

    @Override
    public void publish(AgentFrame f) {
      shown.add(f.json());
    }

    @Override
    public void toRuntime(AgentFrame f) {
      toRuntime.add(f.json());
    }
  }

  /** A control plane that answers from queues the test fills. */
  static final class FakeInbox implements AgentInbox {
    final BlockingQueue<Object> raises = new LinkedBlockingQueue<>();
    final BlockingQueue<Object> waits = new LinkedBlockingQueue<>();
    final List<UUID> raised = new ArrayList<>();
    final AtomicInteger asked = new AtomicInteger();

    @Override
    public void raise(UUID itemId, String sessionId, JsonObject request) throws Failed {
      synchronized (raised) {
        raised.add(itemId);
      }
      Object next = take(raises);
      if (next instanceof Failed f) {
        throw f;
      }
    }

    @Override
    public State await(UUID itemId, int waitSeconds) throws Failed {
      asked.incrementAndGet();
      Object next = take(waits);
      if (next instanceof Failed f) {
        throw f;
      }
      return (State) next;
    }

    private static Object take(BlockingQueue<Object> q) {
      try {
        Object o = q.poll(30, TimeUnit.SECONDS);
        return o != null
            ? o
            : new Failed(AgentInbox.Reason.UNREACHABLE, false, "the test gave no answer");
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  static AgentFrame request(String id) throws Exception {
    return AgentFrames.parse(
        new JsonObject()
            .put("type", "inbox_request")
            .put("id", id)
            .put("kind", "approve")
            .put("question", "push?")
            .put("default", "deny")
            .put("deadline_seconds", 60)
            .encode()
            .getBytes(java.nio.charset.StandardCharsets.UTF_8),
        AgentFrames.Source.RUNTIME);
  }

  static JsonObject next(BlockingQueue<JsonObject> q) throws InterruptedException {
    JsonObject o = q.poll(30, TimeUnit.SECONDS);
    assertThat(o).as("a frame within 30 s").isNotNull();
    return o;
  }

  @Test
  void aRequestIsRaisedShownAndItsDecisionReachesTheRuntime() throws Exception {
    FakeSession s = new FakeSession();
    FakeInbox inbox = new FakeInbox();
    InboxRequests requests = new InboxRequests(s, inbox, Clock.systemUTC());
    inbox.raises.add("ok");
    inbox.waits.add(new AgentInbox.State("open", null));
    inbox.waits.add(new AgentInbox.State("decided", "approve"));
    requests.request(request("q1"));

    JsonObject raised = next(s.shown);
    assertThat(raised.getString("type")).isEqualTo("inbox_raised");
    assertThat(raised.getString("item_id")).isEqualTo(inbox.raised.get(0).toString());
    assertThat(next(s.toRuntime)).isEqualTo(raised);
    JsonObject decided = next(s.shown);
    assertThat(decided)
        .isEqualTo(
            new JsonObject()
                .put("type", "inbox_decision")
                .put("id", "q1")
                .put("status", "decided")
                .put("answer", "approve"));
    assertThat(next(s.toRuntime)).isEqualTo(decided);
    assertThat(inbox.asked.get()).as("an open answer is asked again").isEqualTo(2);
  }

  @Test
  void anUnreachableControlPlaneIsAskedAgainWithTheSameItemAndARefusalFailsTheRequest()
      throws Exception {
    FakeSession s = new FakeSession();
    FakeInbox inbox = new FakeInbox();
    InboxRequests requests = new InboxRequests(s, inbox, Clock.systemUTC());
    inbox.raises.add(new AgentInbox.Failed(AgentInbox.Reason.UNREACHABLE, true, "down"));
    inbox.raises.add("ok");
    inbox.waits.add(new AgentInbox.Failed(AgentInbox.Reason.MACHINE_REFUSED, false, "revoked"));
    requests.request(request("q1"));
    assertThat(next(s.shown).getString("type")).isEqualTo("inbox_raised");
    assertThat(inbox.raised).hasSize(2);
    assertThat(inbox.raised.get(1))
        .as("a repeated raise names the same item")
        .isEqualTo(inbox.raised.get(0));
    JsonObject failed = next(s.shown);
    assertThat(failed.getString("status")).isEqualTo("failed");
    assertThat(failed.getString("reason")).isEqualTo("machine_refused");

    inbox.raises.add(new AgentInbox.Failed(AgentInbox.Reason.BAD_REQUEST, false, "no"));
    requests.request(request("q2"));
    JsonObject refused = next(s.shown);
    assertThat(refused.getString("id")).isEqualTo("q2");
    assertThat(refused.getString("reason")).isEqualTo("bad_request");
  }

  @Test
  void aRepeatedIdAndOneRequestTooManyFailAtOnce() throws Exception {
    FakeSession s = new FakeSession();
    FakeInbox inbox = new FakeInbox();
    InboxRequests requests = new InboxRequests(s, inbox, Clock.systemUTC());
    for (int i = 0; i < InboxRequests.MAX_OPEN; i++) {
      requests.request(request("q" + i));
    }
    requests.request(request("q0"));
    requests.request(request("q99"));
    List<JsonObject> failed = List.of(next(s.shown), next(s.shown));
    assertThat(failed.stream().map(f -> f.getString("reason")).toList())
        .containsExactlyInAnyOrder("limit_reached", "limit_reached");
    s.live = false;
    for (int i = 0; i < InboxRequests.MAX_OPEN; i++) {
      inbox.raises.add(new AgentInbox.Failed(AgentInbox.Reason.BAD_REQUEST, false, "end"));
    }
  }

  @Test
  void aRepeatedIdWhileTheFirstWaitsFails() throws Exception {
    FakeSession s = new FakeSession();
    FakeInbox inbox = new FakeInbox();
    InboxRequests requests = new InboxRequests(s, inbox, Clock.systemUTC());
    requests.request(request("q1"));
    requests.request(request("q1"));
    JsonObject dup = next(s.shown);
    assertThat(dup.getString("reason")).isEqualTo("duplicate_id");
    s.live = false;
    inbox.raises.add(new AgentInbox.Failed(AgentInbox.Reason.BAD_REQUEST, false, "end"));
  }
}
