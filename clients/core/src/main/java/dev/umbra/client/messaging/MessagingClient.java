package dev.umbra.client.messaging;

import dev.umbra.client.http.ApiError;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.messaging.IdentityKeyPair;
import dev.umbra.crypto.messaging.InMemoryPrekeySecrets;
import dev.umbra.crypto.messaging.InitialMessage;
import dev.umbra.crypto.messaging.MessageRefusedException;
import dev.umbra.crypto.messaging.OneTimePrekey;
import dev.umbra.crypto.messaging.PrekeyBundle;
import dev.umbra.crypto.messaging.RatchetOptions;
import dev.umbra.crypto.messaging.RatchetSession;
import dev.umbra.crypto.messaging.SignedPrekey;
import dev.umbra.crypto.messaging.VerifiedPrekeyBundle;
import dev.umbra.crypto.messaging.X3dh;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * One messaging identity talking to the control plane (docs/messaging.md, "Clients"): keeps its
 * prekeys published, sends (X3DH on first contact, one copy per recipient, idempotent resend) and
 * receives (decrypt, store, ack; refused copies discarded, never shown). Every method holds the
 * client's lock: one state, one writer.
 */
public final class MessagingClient {
  /** Plaintext limit (a stored copy is at most 64 KiB with the X3DH and ratchet overhead). */
  public static final int MAX_TEXT_BYTES = 60_000;

  static final int OPK_LOW = 20;
  static final int OPK_BATCH = 100;
  static final Duration SPK_LIFETIME = Duration.ofDays(30);
  static final Duration SPK_ROTATE_BEFORE = Duration.ofDays(23);
  static final int SPK_KEEP = 3;
  static final int COPIES_PER_SEND = 10;
  static final int MAX_ACK_IDS = 200;

  /** A call to the control plane with this identity's session token (path, body → answer). */
  public interface Transport {
    JsonObject call(String method, String path, JsonObject body);
  }

  /** Where peers' Ed25519 identity keys come from: never from the server alone. */
  public interface Pins {
    /**
     * The pinned key of {@code kind} ("device"/"agent") {@code id}; throws when none is trusted.
     */
    Ed25519PublicKey pinned(String kind, UUID id);
  }

  /** What one fetch did: messages stored for display, refusals, copies held for later. */
  public record Fetched(List<JsonObject> stored, List<String> refused, int held) {}

  private final Transport api;
  private final UUID workspace;
  private final UUID self;
  private final IdentityKeyPair identity;
  private final MessagingStore store;
  private final Pins pins;
  private final Clock clock;
  private final RatchetOptions options;

  /**
   * Where acknowledgements of stored copies go; null: {@link #ack} (one {@code POST /messages/acks}
   * at once).
   */
  private java.util.function.Consumer<List<UUID>> acks;

  /** While {@link #receiveAll} runs: the ids to acknowledge at its end (else null). */
  private List<UUID> deferredAcks;

  public MessagingClient(
      Transport api,
      UUID workspace,
      UUID self,
      IdentityKeyPair identity,
      MessagingStore store,
      Pins pins,
      Clock clock) {
    this.api = api;
    this.workspace = workspace;
    this.self = self;
    this.identity = identity;
    this.store = store;
    this.pins = pins;
    this.clock = clock;
    this.options = RatchetOptions.defaults(clock);
  }

  public MessagingStore store() {
    return store;
  }

  /**
   * Publishes a signed prekey (rotated before it gets old) and tops one-time prekeys up when the
   * server holds fewer than {@value #OPK_LOW}. Returns true when it uploaded.
   */
  public synchronized boolean ensurePrekeys() {
    return store.locked(() -> ensurePrekeysLocked());
  }

  private boolean ensurePrekeysLocked() {
    JsonObject status = api.call("GET", ControlPlanePaths.prekeyStatus(workspace), null);
    JsonObject meta = store.prekeyMeta();
    InMemoryPrekeySecrets secrets = store.prekeys().orElseGet(InMemoryPrekeySecrets::new);
    Instant now = clock.instant();
    Long spkId = meta.getLong("spk_id");
    SignedPrekey spk = spkId == null ? null : secrets.signedPrekey(spkId).orElse(null);
    Number served = status.getNumber("signed_prekey_id");
    boolean rotate =
        spk == null
            || served == null
            || served.longValue() != spk.id()
            || spk.expiresAt().minus(SPK_ROTATE_BEFORE).isBefore(now);
    int count = status.getInteger("one_time_prekeys", 0);
    if (!rotate && count >= OPK_LOW) {
      return false;
    }
    if (rotate) {
      long id = spkId == null ? 1 : spkId + 1;
      spk = SignedPrekey.generate(id, now, SPK_LIFETIME);
      secrets.addSignedPrekey(spk);
      dropOldSignedPrekeys(secrets, meta, id);
      meta.put("spk_id", id);
    }
    List<OneTimePrekey> fresh = new ArrayList<>();
    long next = meta.getLong("next_opk_id", 1L);
    int want = Math.min(OPK_BATCH, 500 - count);
    for (int i = 0; i < want && count < OPK_LOW + OPK_BATCH; i++) {
      OneTimePrekey o = OneTimePrekey.generate(next++);
      secrets.addOneTimePrekey(o);
      fresh.add(o);
    }
    meta.put("next_opk_id", next);
    // private halves first: a crash after the upload must not leave published keys we cannot use
    store.savePrekeys(secrets);
    store.savePrekeyMeta(meta);
    PrekeyBundle bundle = PrekeyBundle.create(identity, spk, null);
    api.call("POST", ControlPlanePaths.prekeys(workspace), PrekeyWire.upload(bundle, spk, fresh));
    return true;
  }

  private static void dropOldSignedPrekeys(
      InMemoryPrekeySecrets secrets, JsonObject meta, long newest) {
    for (long old = newest - SPK_KEEP; old >= 1 && old > newest - SPK_KEEP - 16; old--) {
      secrets.removeSignedPrekey(old);
    }
  }

  /**
   * Sends {@code text} to every recipient of {@code conversation}; returns the message id. A failed
   * POST is resent with the same id and the same ciphertexts (the server treats it as a no-op when
   * it already stored them).
   */
  public synchronized UUID send(UUID conversation, String text) {
    return store.locked(() -> sendLocked(conversation, text));
  }

  private UUID sendLocked(UUID conversation, String text) {
    List<JsonObject> bodies = new ArrayList<>();
    UUID id = encrypt(conversation, recipients(conversation), text, bodies);
    bodies.forEach(b -> SendBatches.postOne(api, workspace, b));
    return id;
  }

  /**
   * Sends each of {@code texts} to every recipient of {@code conversation}, in order, several
   * messages a request ({@code POST /messages/batch}, docs/messaging.md "Batches"); each is still
   * its own message (id, ciphertexts, answer). Returns their ids. Every text is encrypted first
   * (the session advances once per text), then posted; what failed for a passing reason is resent
   * with the same id and ciphertexts, a refusal fails the call after the others were sent.
   */
  public synchronized List<UUID> sendAll(UUID conversation, List<String> texts) {
    return store.locked(
        () -> {
          texts.forEach(MessagingClient::plaintext);
          JsonArray recipients = recipients(conversation);
          List<UUID> ids = new ArrayList<>();
          List<JsonObject> bodies = new ArrayList<>();
          texts.forEach(t -> ids.add(encrypt(conversation, recipients, t, bodies)));
          SendBatches.post(api, workspace, bodies);
          return ids;
        });
  }

  private static byte[] plaintext(String text) {
    byte[] plain = text.getBytes(StandardCharsets.UTF_8);
    if (plain.length == 0 || plain.length > MAX_TEXT_BYTES) {
      throw new IllegalArgumentException(
          "a message must have 1.." + MAX_TEXT_BYTES + " bytes of UTF-8, not " + plain.length);
    }
    return plain;
  }

  private JsonArray recipients(UUID conversation) {
    JsonArray recipients =
        api.call("GET", ControlPlanePaths.conversationRecipients(workspace, conversation), null)
            .getJsonArray("items", new JsonArray());
    if (recipients.isEmpty()) {
      throw new IllegalStateException("the conversation has no recipient to send to");
    }
    return recipients;
  }

  /**
   * Encrypts {@code text} once per recipient; adds its send bodies (10 copies each) to {@code out}.
   */
  private UUID encrypt(UUID conversation, JsonArray recipients, String text, List<JsonObject> out) {
    byte[] plain = plaintext(text);
    UUID id = UUID.randomUUID();
    JsonArray copies = new JsonArray();
    for (Object o : recipients) {
      JsonObject r = (JsonObject) o;
      UUID to = UUID.fromString(r.getString("id"));
      byte[] envelope = encryptFor(r.getString("kind"), to, plain);
      copies.add(
          new JsonObject()
              .put("recipient_id", to.toString())
              .put("ciphertext", PrekeyWire.b64(envelope)));
    }
    for (int i = 0; i < copies.size(); i += COPIES_PER_SEND) {
      JsonArray part =
          new JsonArray(copies.getList().subList(i, Math.min(copies.size(), i + COPIES_PER_SEND)));
      out.add(
          new JsonObject()
              .put("id", id.toString())
              .put("conversation_id", conversation.toString())
              .put("copies", part));
    }
    return id;
  }

  private byte[] encryptFor(String kind, UUID to, byte[] plain) {
    var existing = store.session(to, options);
    if (existing.isPresent()) {
      RatchetSession s = existing.get().session();
      byte[] msg = s.encrypt(plain).encode();
      store.saveSession(to, s, existing.get().confirmed());
      return new Envelope(Envelope.Kind.RATCHET, msg).encode();
    }
    Ed25519PublicKey pinned = pins.pinned(kind, to);
    JsonObject answer;
    try {
      answer = api.call("GET", ControlPlanePaths.prekeyBundle(workspace, to), null);
    } catch (ApiError e) {
      if (e.status() != 404) {
        throw e;
      }
      throw new IllegalStateException(
          kind
              + " "
              + to
              + " has published no prekeys yet (an agent publishes them when `umbra agent run`,"
              + " `recv` or `send` first runs after its approval; a device on its first `umbra msg`)");
    }
    VerifiedPrekeyBundle verified = PrekeyBundle.verify(PrekeyWire.bundle(answer), pinned, clock);
    X3dh.Initiated init = X3dh.initiate(identity, verified, plain, options);
    store.saveSession(to, init.session(), false);
    return new Envelope(Envelope.Kind.INITIAL, init.initialMessage().encode()).encode();
  }

  /**
   * Fetches every pending copy (pages of {@code GET /messages}), decrypts and stores each one not
   * seen before, and acknowledges what was stored, seen before or refused. Copies of a peer we hold
   * no session with that are not initial messages are left on the server (held).
   */
  public synchronized Fetched fetch() {
    return store.locked(() -> fetchLocked());
  }

  private Fetched fetchLocked() {
    List<JsonObject> stored = new ArrayList<>();
    List<String> refused = new ArrayList<>();
    int held = 0;
    Long after = null;
    do {
      String q = "?limit=100" + (after == null ? "" : "&after=" + after);
      JsonObject page = api.call("GET", ControlPlanePaths.messages(workspace) + q, null);
      List<JsonObject> items = new ArrayList<>();
      page.getJsonArray("items", new JsonArray()).forEach(o -> items.add((JsonObject) o));
      for (Outcome r : receiveAll(items)) {
        switch (r.kind) {
          case STORED -> stored.add(r.entry);
          case REFUSED -> refused.add(r.reason);
          case HELD -> held++;
          default -> {}
        }
      }
      after = page.getLong("next_after");
    } while (after != null);
    return new Fetched(stored, refused, held);
  }

  public enum OutcomeKind {
    STORED,
    DUPLICATE,
    REFUSED,
    HELD
  }

  public record Outcome(OutcomeKind kind, JsonObject entry, String reason) {}

  /**
   * The copies of one pushed frame (or page), in order, each as {@link #receive}; what is to be
   * acknowledged is acknowledged in one request at the end.
   */
  public synchronized List<Outcome> receiveAll(List<JsonObject> copies) {
    return store.locked(
        () -> {
          deferredAcks = new ArrayList<>();
          try {
            List<Outcome> out = new ArrayList<>();
            copies.forEach(m -> out.add(receiveLocked(m)));
            return out;
          } finally {
            List<UUID> ids = deferredAcks;
            deferredAcks = null;
            for (int i = 0; i < ids.size(); i += MAX_ACK_IDS) {
              ackQuietly(ids.subList(i, Math.min(ids.size(), i + MAX_ACK_IDS)));
            }
          }
        });
  }

  /** One copy as the server or the socket gave it; acked unless held. */
  public synchronized Outcome receive(JsonObject m) {
    return store.locked(() -> receiveLocked(m));
  }

  private Outcome receiveLocked(JsonObject m) {
    UUID id;
    UUID sender;
    byte[] bytes;
    try {
      id = UUID.fromString(m.getString("id"));
      sender = UUID.fromString(m.getString("sender_id"));
      bytes = Base64.getDecoder().decode(m.getString("ciphertext"));
    } catch (RuntimeException e) {
      return new Outcome(OutcomeKind.REFUSED, null, "malformed message from the server");
    }
    if (seen(id)) {
      ackStored(id);
      return new Outcome(OutcomeKind.DUPLICATE, null, null);
    }
    String kind = m.getString("sender_kind", "");
    try {
      Envelope env = Envelope.parse(bytes);
      if (env.kind() == Envelope.Kind.INITIAL) {
        openInitial(m, id, kind, sender, env.body());
      } else {
        var s = store.session(sender, options);
        if (s.isEmpty()) {
          return new Outcome(OutcomeKind.HELD, null, null);
        }
        openRatchet(m, id, sender, s.get().session(), env.body());
      }
      ackStored(id);
      return new Outcome(OutcomeKind.STORED, store.inbox().getLast(), null);
    } catch (MessageRefusedException e) {
      ackStored(id);
      return new Outcome(OutcomeKind.REFUSED, null, "message " + id + " refused: " + e.reason());
    } catch (CryptoException | IllegalArgumentException e) {
      ackStored(id);
      return new Outcome(
          OutcomeKind.REFUSED, null, "message " + id + " refused: " + e.getMessage());
    }
  }

  /**
   * Acknowledges a copy that is stored here (or refused for good). A failed ack is left for later:
   * the copy stays on the server and is acknowledged as a duplicate when it comes again (an
   * instance that died between its push and our ack).
   */
  private void ackStored(UUID id) {
    if (deferredAcks != null) {
      deferredAcks.add(id);
      return;
    }
    ackQuietly(List.of(id));
  }

  /**
   * Sends the acknowledgements of stored copies to {@code sink} from now on (a {@link
   * LiveReceiver#ack}: coalesced on the live socket) instead of one request at once. Each id still
   * goes only once its copy is stored here.
   */
  public synchronized void acknowledgeThrough(java.util.function.Consumer<List<UUID>> sink) {
    this.acks = sink;
  }

  private void ackQuietly(List<UUID> ids) {
    try {
      if (acks != null) {
        acks.accept(ids);
        return;
      }
      ack(ids);
    } catch (RuntimeException e) {
      // kept on the server until the next fetch sees it again
    }
  }

  /**
   * Opens a ratchet copy on the current session, else on a previous one (the peer sent it before it
   * switched to the session we keep); stores the text, then the session it opened on.
   */
  private void openRatchet(
      JsonObject m, UUID id, UUID sender, RatchetSession current, byte[] body) {
    try {
      byte[] plain = current.decrypt(body);
      keep(m, id, plain);
      store.saveSession(sender, current, true);
    } catch (MessageRefusedException refused) {
      List<RatchetSession> previous = store.previousSessions(sender, options);
      for (RatchetSession p : previous) {
        byte[] plain;
        try {
          plain = p.decrypt(body);
        } catch (MessageRefusedException notThisOne) {
          continue;
        }
        keep(m, id, plain);
        store.savePreviousSessions(sender, previous);
        return;
      }
      throw refused;
    }
  }

  /**
   * Opens an initial message and stores its text, then the session. A session we initiated
   * ourselves and never heard back on is kept when our id is the smaller one (both sides started at
   * once: both converge on that one); otherwise the new session replaces ours. The session not kept
   * becomes a previous one, so what the peer sent on it before switching still opens.
   */
  private void openInitial(JsonObject m, UUID id, String kind, UUID sender, byte[] body) {
    InitialMessage im = InitialMessage.parse(body);
    InMemoryPrekeySecrets secrets =
        store
            .prekeys()
            .orElseThrow(() -> new IllegalArgumentException("no prekeys on this device"));
    X3dh.Responded r = X3dh.respond(identity, secrets, im, pins.pinned(kind, sender), options);
    var existing = store.session(sender, options);
    boolean keepOurs =
        existing.isPresent() && !existing.get().confirmed() && self.compareTo(sender) < 0;
    keep(m, id, r.plaintext());
    store.savePrekeys(secrets);
    if (keepOurs) {
      store.archiveSession(sender, r.session(), options);
    } else {
      existing.ifPresent(e -> store.archiveSession(sender, e.session(), options));
      store.saveSession(sender, r.session(), true);
    }
  }

  private void keep(JsonObject m, UUID id, byte[] plain) {
    List<JsonObject> inbox = new ArrayList<>(store.inbox());
    inbox.add(entry(m, id, plain));
    store.saveInbox(inbox);
  }

  private JsonObject entry(JsonObject m, UUID id, byte[] plain) {
    return new JsonObject()
        .put("id", id.toString())
        .put("conversation_id", m.getString("conversation_id"))
        .put("sender_kind", m.getString("sender_kind"))
        .put("sender_id", m.getString("sender_id"))
        .put("created_at", m.getString("created_at"))
        .put("text", new String(plain, StandardCharsets.UTF_8));
  }

  private boolean seen(UUID id) {
    if (store.shown().contains(id)) {
      return true;
    }
    for (JsonObject e : store.inbox()) {
      if (e.getString("id").equals(id.toString())) {
        return true;
      }
    }
    return false;
  }

  public synchronized void ack(List<UUID> ids) {
    if (ids.isEmpty()) {
      return;
    }
    JsonArray a = new JsonArray();
    ids.forEach(i -> a.add(i.toString()));
    api.call("POST", ControlPlanePaths.messageAcks(workspace), new JsonObject().put("ids", a));
  }

  /** Messages stored and not shown yet (oldest first), without marking them. */
  public synchronized List<JsonObject> unshown() {
    return store.locked(() -> unshownLocked());
  }

  private List<JsonObject> unshownLocked() {
    return store.inbox();
  }

  /**
   * Marks {@code ids} shown: they leave the inbox and are never shown again. Returns the entries
   * that were in the inbox.
   */
  public synchronized List<JsonObject> markShown(List<UUID> ids) {
    return store.locked(() -> markShownLocked(ids));
  }

  private List<JsonObject> markShownLocked(List<UUID> ids) {
    Set<String> want = new HashSet<>();
    ids.forEach(i -> want.add(i.toString()));
    List<JsonObject> taken = new ArrayList<>();
    List<JsonObject> rest = new ArrayList<>();
    for (JsonObject e : store.inbox()) {
      (want.contains(e.getString("id")) ? taken : rest).add(e);
    }
    store.markShown(ids);
    store.saveInbox(rest);
    return taken;
  }

  /** Takes every unshown message, marking it shown. */
  public synchronized List<JsonObject> takeUnshown() {
    return store.locked(() -> takeUnshownLocked());
  }

  private List<JsonObject> takeUnshownLocked() {
    List<JsonObject> all = store.inbox();
    List<UUID> ids = new ArrayList<>();
    all.forEach(e -> ids.add(UUID.fromString(e.getString("id"))));
    store.markShown(ids);
    store.saveInbox(List.of());
    return all;
  }
}
