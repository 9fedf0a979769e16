package dev.umbra.client.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.messaging.IdentityKeyPair;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client's session rules against a small in-memory stand-in for the control plane's messaging
 * routes (the real routes are exercised end to end in tests/e2e MessagingEndToEndTest): both sides
 * starting a session at once converge, refused copies are acked and never stored, prekeys are
 * topped up when low.
 */
class MessagingClientTest {
  @TempDir Path tmp;
  final Clock clock = Clock.systemUTC();
  final UUID ws = UUID.randomUUID();
  final UUID conversation = UUID.randomUUID();

  /** Stored copies, prekeys and one-time prekeys per principal, as the routes keep them. */
  final class Server {
    final Map<UUID, JsonObject> bundles = new HashMap<>();
    final Map<UUID, List<JsonObject>> opks = new HashMap<>();
    final Map<UUID, List<JsonObject>> inbox = new HashMap<>();
    long seq;
    final List<String> requests = new ArrayList<>();
    boolean batches = true;

    MessagingClient.Transport as(UUID self, UUID peer, String selfKind) {
      return (method, path, body) -> {
        requests.add(method + " " + path.replaceAll("^.*/v1/workspaces/[^/]+", ""));
        if (path.endsWith("/messages/batch") && method.equals("POST")) {
          if (!batches) {
            throw new dev.umbra.client.http.ApiError(404, "not_found", "no such route", null);
          }
          JsonArray results = new JsonArray();
          for (Object o : body.getJsonArray("messages")) {
            store(self, selfKind, (JsonObject) o);
            results.add(
                new JsonObject().put("id", ((JsonObject) o).getString("id")).put("stored", 1));
          }
          return new JsonObject().put("results", results);
        }
        if (path.endsWith("/prekey-status")) {
          JsonObject b = bundles.get(self);
          return new JsonObject()
              .put("one_time_prekeys", opks.getOrDefault(self, List.of()).size())
              .put("signed_prekey_id", b == null ? null : b.getValue("signed_prekey_id"));
        }
        if (path.endsWith("/prekeys") && method.equals("POST")) {
          bundles.put(self, body.copy());
          opks.computeIfAbsent(self, k -> new ArrayList<>())
              .addAll(
                  body.getJsonArray("one_time_prekeys").getList().stream()
                      .map(
                          o ->
                              o instanceof JsonObject j
                                  ? j
                                  : new JsonObject((Map<String, Object>) o))
                      .toList());
          return new JsonObject();
        }
        if (path.contains("/prekeys/")) {
          List<JsonObject> left = opks.getOrDefault(peer, new ArrayList<>());
          return bundles
              .get(peer)
              .copy()
              .put("one_time_prekey", left.isEmpty() ? null : left.remove(0));
        }
        if (path.endsWith("/recipients")) {
          return new JsonObject()
              .put(
                  "items",
                  new JsonArray()
                      .add(new JsonObject().put("kind", "x").put("id", peer.toString())));
        }
        if (path.endsWith("/messages") && method.equals("POST")) {
          store(self, selfKind, body);
          return new JsonObject();
        }
        if (path.contains("/messages?")) {
          return new JsonObject()
              .put("items", new JsonArray(new ArrayList<>(inbox.getOrDefault(self, List.of()))))
              .putNull("next_after");
        }
        if (path.endsWith("/acks")) {
          List<Object> ids = body.getJsonArray("ids").getList();
          inbox
              .getOrDefault(self, new ArrayList<>())
              .removeIf(m -> ids.contains(m.getString("id")));
          return new JsonObject();
        }
        throw new IllegalArgumentException(method + " " + path);
      };
    }

    void store(UUID self, String selfKind, JsonObject body) {
      for (Object o : body.getJsonArray("copies")) {
        JsonObject c = (JsonObject) o;
        inbox
            .computeIfAbsent(UUID.fromString(c.getString("recipient_id")), k -> new ArrayList<>())
            .add(
                new JsonObject()
                    .put("id", body.getString("id"))
                    .put("seq", ++seq)
                    .put("conversation_id", conversation.toString())
                    .put("sender_kind", selfKind)
                    .put("sender_id", self.toString())
                    .put("ciphertext", c.getString("ciphertext"))
                    .put("created_at", clock.instant().toString()));
      }
    }

    long count(String request) {
      return requests.stream().filter(request::equals).count();
    }
  }

  record Party(UUID id, IdentityKeyPair identity) {}

  MessagingClient client(Server s, Party self, Party peer, String name) {
    Ed25519PublicKey pinned = peer.identity().signing().publicKey();
    return new MessagingClient(
        s.as(self.id(), peer.id(), "x"),
        ws,
        self.id(),
        self.identity(),
        MessagingStore.open(tmp.resolve(name)),
        (kind, id) -> {
          if (!id.equals(peer.id())) {
            throw new IllegalArgumentException("unknown peer");
          }
          return pinned;
        },
        clock);
  }

  static Party party(String lowOrHigh) {
    UUID id =
        UUID.fromString(
            lowOrHigh.equals("low")
                ? "00000000-0000-4000-8000-000000000001"
                : "ffffffff-ffff-4fff-bfff-ffffffffffff");
    return new Party(id, new IdentityKeyPair(Ed25519KeyPair.generate(), X25519KeyPair.generate()));
  }

  final Server s = new Server();
  final Party low = party("low");
  final Party high = party("high");

  /** A client of {@code self} talking to {@code peer} whose prekeys are on the server. */
  MessagingClient published(Party self, Party peer, String name) {
    MessagingClient c = client(s, self, peer, name);
    c.ensurePrekeys();
    return c;
  }

  static List<String> texts(MessagingClient c) {
    return c.takeUnshown().stream().map(e -> e.getString("text")).toList();
  }

  @Test
  void bothSidesStartingAtOnceConvergeOnOneSession() {
    MessagingClient a = published(low, high, "a");
    MessagingClient b = published(high, low, "b");
    a.send(conversation, "a1");
    b.send(conversation, "b1");
    assertThat(a.fetch().refused()).isEmpty();
    assertThat(b.fetch().refused()).isEmpty();
    assertThat(texts(a)).containsExactly("b1");
    assertThat(texts(b)).containsExactly("a1");
    for (int i = 0; i < 3; i++) {
      a.send(conversation, "a" + (i + 2));
      assertThat(b.fetch().refused()).isEmpty();
      assertThat(texts(b)).containsExactly("a" + (i + 2));
      b.send(conversation, "b" + (i + 2));
      assertThat(a.fetch().refused()).isEmpty();
      assertThat(texts(a)).containsExactly("b" + (i + 2));
    }
  }

  @Test
  void messagesSentOnTheSessionTheOtherSideAbandonsAreStillShownInOrder() {
    MessagingClient a = published(low, high, "a");
    MessagingClient b = published(high, low, "b");
    // both start a session at once and go on talking on it before either hears from the other:
    // the tie-break keeps one of the two sessions, so one side's second and third messages ride
    // the session that is dropped
    a.send(conversation, "a1");
    b.send(conversation, "b1");
    a.send(conversation, "a2");
    b.send(conversation, "b2");
    a.send(conversation, "a3");
    b.send(conversation, "b3");
    MessagingClient.Fetched fa = a.fetch();
    MessagingClient.Fetched fb = b.fetch();
    assertThat(fa.refused()).isEmpty();
    assertThat(fb.refused()).isEmpty();
    assertThat(fa.held() + fb.held()).isZero();
    assertThat(texts(a)).containsExactly("b1", "b2", "b3");
    assertThat(texts(b)).containsExactly("a1", "a2", "a3");
    for (int i = 4; i < 7; i++) {
      a.send(conversation, "a" + i);
      b.send(conversation, "b" + i);
      assertThat(a.fetch().refused()).isEmpty();
      assertThat(b.fetch().refused()).isEmpty();
      assertThat(texts(a)).containsExactly("b" + i);
      assertThat(texts(b)).containsExactly("a" + i);
    }
    assertThat(s.inbox.get(low.id())).isEmpty();
    assertThat(s.inbox.get(high.id())).isEmpty();
  }

  @Test
  void aPeerThatStartsAFreshSessionDoesNotLoseWhatItSentOnTheOldOne() {
    MessagingClient a = published(low, high, "a");
    MessagingClient b = published(high, low, "b");
    a.send(conversation, "a1");
    b.fetch();
    b.send(conversation, "b1");
    a.fetch();
    assertThat(texts(a)).containsExactly("b1");
    assertThat(texts(b)).containsExactly("a1");
    // a copy of the old session is still in flight when b's state is lost and b starts over
    b.send(conversation, "b2 on the old session");
    MessagingClient fresh = published(high, low, "b-again");
    fresh.send(conversation, "b3 on a new session");
    assertThat(a.fetch().refused()).isEmpty();
    assertThat(texts(a)).containsExactly("b2 on the old session", "b3 on a new session");
  }

  @Test
  void aCopyStoredLocallyIsShownEvenWhenItsAckFails() {
    MessagingClient a = published(low, high, "a");
    MessagingClient.Transport real = s.as(high.id(), low.id(), "x");
    boolean[] serverDown = {false};
    MessagingClient b =
        new MessagingClient(
            (method, path, body) -> {
              if (serverDown[0] && path.endsWith("/acks")) {
                throw new java.io.UncheckedIOException(new java.io.IOException("connection reset"));
              }
              return real.call(method, path, body);
            },
            ws,
            high.id(),
            high.identity(),
            MessagingStore.open(tmp.resolve("b")),
            (kind, id) -> low.identity().signing().publicKey(),
            clock);
    b.ensurePrekeys();
    a.send(conversation, "pushed just before the instance died");
    JsonObject copy = s.inbox.get(high.id()).get(0);
    serverDown[0] = true;
    assertThat(b.receive(copy).kind()).isEqualTo(MessagingClient.OutcomeKind.STORED);
    assertThat(s.inbox.get(high.id())).as("not acked: still on the server").hasSize(1);
    serverDown[0] = false;
    assertThat(b.fetch().stored()).as("the next fetch acks it as a duplicate").isEmpty();
    assertThat(s.inbox.get(high.id())).isEmpty();
    assertThat(texts(b)).containsExactly("pushed just before the instance died");
  }

  @Test
  void aTamperedCopyIsAckedAndNeverStoredAndADuplicateIsNotShownTwice() {
    MessagingClient a = published(low, high, "a");
    MessagingClient b = published(high, low, "b");
    a.send(conversation, "first");
    JsonObject copy = s.inbox.get(high.id()).get(0).copy();
    assertThat(texts(b)).isEmpty();
    b.fetch();
    assertThat(texts(b)).containsExactly("first");
    s.inbox.get(high.id()).add(copy); // redelivered: already shown
    assertThat(b.fetch().refused()).isEmpty();
    assertThat(texts(b)).isEmpty();
    a.send(conversation, "second");
    JsonObject m = s.inbox.get(high.id()).get(0);
    byte[] ct = Base64.getDecoder().decode(m.getString("ciphertext"));
    ct[ct.length - 1] ^= 1;
    m.put("ciphertext", Base64.getEncoder().encodeToString(ct));
    MessagingClient.Fetched f = b.fetch();
    assertThat(f.refused()).singleElement().asString().contains("BAD_TAG");
    assertThat(texts(b)).isEmpty();
    assertThat(s.inbox.get(high.id())).isEmpty();
  }

  @Test
  void severalTextsGoSeveralARequestAndAFrameOfCopiesIsAcknowledgedInOneRequest() {
    MessagingClient a = published(low, high, "a");
    MessagingClient b = published(high, low, "b");
    a.send(conversation, "hello"); // X3DH first, one request as before
    assertThat(s.count("POST /messages")).isEqualTo(1);
    List<String> sent = new ArrayList<>();
    for (int i = 0; i < 70; i++) {
      sent.add("text " + i);
    }
    List<UUID> ids = a.sendAll(conversation, sent);
    assertThat(ids).hasSize(70).doesNotHaveDuplicates();
    assertThat(s.count("POST /messages/batch")).as("64 + 6").isEqualTo(2);
    List<JsonObject> copies = new ArrayList<>(s.inbox.get(high.id()));
    assertThat(copies).hasSize(71);
    List<MessagingClient.Outcome> out = b.receiveAll(copies);
    assertThat(out)
        .extracting(MessagingClient.Outcome::kind)
        .containsOnly(MessagingClient.OutcomeKind.STORED);
    assertThat(s.count("POST /messages/acks")).as("one ack for the frame").isEqualTo(1);
    List<String> expected = new ArrayList<>(List.of("hello"));
    expected.addAll(sent);
    assertThat(texts(b)).containsExactlyElementsOf(expected);
    assertThat(s.inbox.get(high.id())).isEmpty();
    // the same frame again (a redelivery): nothing shown twice, acknowledged again at once
    assertThat(b.receiveAll(copies))
        .extracting(MessagingClient.Outcome::kind)
        .containsOnly(MessagingClient.OutcomeKind.DUPLICATE);
    assertThat(s.count("POST /messages/acks")).isEqualTo(2);
    assertThat(texts(b)).isEmpty();
  }

  /**
   * One copy pushed three times to a socket (a notice retried after a publish that had reached
   * Redis after all: docs/messaging.md, "Delivery guarantees"), as {@code umbra agent run} takes
   * it: stored once; again while it waits in the inbox for the agent and again after the agent
   * acknowledged it on its socket ({@code markShown}), it is a duplicate, acknowledged and never
   * handed over a second time.
   */
  @Test
  void aCopyPushedAgainBeforeOrAfterTheAgentTookItIsHandedOverOnce() {
    MessagingClient a = published(low, high, "a");
    MessagingClient b = published(high, low, "b");
    a.send(conversation, "once");
    JsonObject copy = s.inbox.get(high.id()).get(0);
    assertThat(b.receive(copy).kind()).isEqualTo(MessagingClient.OutcomeKind.STORED);
    assertThat(b.receive(copy).kind()).isEqualTo(MessagingClient.OutcomeKind.DUPLICATE);
    List<JsonObject> waiting = b.unshown();
    assertThat(waiting).extracting(e -> e.getString("text")).containsExactly("once");
    b.markShown(List.of(UUID.fromString(waiting.get(0).getString("id")))); // the agent's ack
    assertThat(b.receiveAll(List.of(copy)))
        .extracting(MessagingClient.Outcome::kind)
        .containsExactly(MessagingClient.OutcomeKind.DUPLICATE);
    assertThat(b.unshown()).isEmpty();
  }

  @Test
  void aServerWithoutTheBatchRouteGetsTheSendsOneByOne() {
    MessagingClient a = published(low, high, "a");
    MessagingClient b = published(high, low, "b");
    s.batches = false;
    a.sendAll(conversation, List.of("one", "two", "three"));
    assertThat(s.count("POST /messages/batch")).isEqualTo(1);
    assertThat(s.count("POST /messages")).isEqualTo(3);
    b.fetch();
    assertThat(texts(b)).containsExactly("one", "two", "three");
  }

  @Test
  void oneTimePrekeysAreToppedUpWhenLow() {
    MessagingClient b = client(s, high, low, "b");
    assertThat(b.ensurePrekeys()).isTrue();
    assertThat(s.opks.get(high.id())).hasSize(MessagingClient.OPK_BATCH);
    assertThat(b.ensurePrekeys()).isFalse();
    s.opks.get(high.id()).subList(0, MessagingClient.OPK_BATCH - 5).clear();
    assertThat(b.ensurePrekeys()).isTrue();
    assertThat(s.opks.get(high.id())).hasSize(MessagingClient.OPK_BATCH + 5);
  }
}
