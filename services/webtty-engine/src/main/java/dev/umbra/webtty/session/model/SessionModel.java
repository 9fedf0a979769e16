package dev.umbra.webtty.session.model;

import com.google.protobuf.ByteString;
import dev.umbra.kit.auth.Role;
import dev.umbra.proto.webtty.JoinPolicy;
import dev.umbra.proto.webtty.KeyGrant;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.proto.webtty.ServerPolicy;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.TerminalSize;
import dev.umbra.proto.webtty.WebTtyReason;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * One session's rules as its home keeps them (docs/webtty.md, "Engine internals"): lifecycle
 * (opening → live → ended), participants, controller, the gapless event sequence, grants and
 * output-key epochs. No sockets, no bus, no clock: each input returns a {@link Decision} and the
 * session home carries it out. Confined to one thread (the home's event loop).
 */
public final class SessionModel {
  private static final HexFormat HEX = HexFormat.of();

  /** Lifecycle: the three handshake steps (opening), then live, then ended (final). */
  public enum Phase {
    AWAIT_HELLO,
    AWAIT_PROOF,
    AWAIT_READY,
    LIVE,
    ENDED;

    public boolean opening() {
      return this == AWAIT_HELLO || this == AWAIT_PROOF || this == AWAIT_READY;
    }
  }

  /** What a participant's leaving leaves behind. */
  public enum Aftermath {
    /** Nothing more to do (the session goes on, or had already ended). */
    NONE,
    /** The opener left before the session was live: it ends ({@code client_gone}). */
    END,
    /** Live without its opener: the shell runs on for the detach grace, waiting for ATTACH. */
    AWAIT_OPENER
  }

  /** A participant left; {@code controlDropped} when they held control (now nobody does). */
  public record Departure(Participant participant, boolean controlDropped, Aftermath aftermath) {}

  private final String id;
  private final UUID workspaceId;
  private final String serverId;
  private final ServerPolicy policy;
  private final String openedBy;
  private final long startedMs;
  private final Map<String, Participant> participants = new LinkedHashMap<>();
  private final Map<String, Long> lastStdinSequence = new HashMap<>();
  private final Set<String> grantKeyIds = new HashSet<>();
  private Phase phase = Phase.AWAIT_HELLO;
  private String controllerId;
  private long nextSequence = 1;
  private TerminalSize size;
  private SignedMessage serverHello;
  private SignedMessage clientProof;
  private List<KeyGrant> grants = List.of();
  private ByteString keyContext = ByteString.EMPTY;

  /** The output key's id (stdout/stderr from the server); input keys are the daemon's to check. */
  private ByteString payloadKeyId = ByteString.EMPTY;

  /** The latest daemon-signed output-key epoch (a share), handed to joiners; null before any. */
  private SignedMessage outputKeyEpoch;

  /** The key (hex) control waits for: the signed resume's, or a dropped link's (onDisconnect). */
  private String resumedControllerKey;

  private boolean onDisconnect;

  /** After a failover: the daemon-signed resume document (every re-joiner gets it to verify). */
  private SignedMessage resume;

  /** A session an OPEN asked for: the opener is its first participant and holds control. */
  public SessionModel(
      String id,
      UUID workspaceId,
      String serverId,
      ServerPolicy policy,
      Participant opener,
      long startedMs,
      TerminalSize size) {
    this(id, workspaceId, serverId, policy, opener.subject(), startedMs, size);
    participants.put(opener.id(), opener);
    controllerId = opener.id();
  }

  private SessionModel(
      String id,
      UUID workspaceId,
      String serverId,
      ServerPolicy policy,
      String openedBy,
      long startedMs,
      TerminalSize size) {
    this.id = id;
    this.workspaceId = workspaceId;
    this.serverId = serverId;
    this.policy = policy;
    this.openedBy = openedBy;
    this.startedMs = startedMs;
    this.size = size;
  }

  /**
   * A live session taken over from a home that died (docs/webtty.md "Engine failover"): nobody is
   * present until the participants come back with JOIN or ATTACH under the ordinary rules; the
   * controller role goes back to the key the daemon's signed resume names, without a control change
   * (the daemon kept that key's input key); the sequence goes on at {@code r.nextSequence}.
   */
  public static SessionModel resumed(
      String id, UUID workspaceId, String serverId, ServerPolicy policy, Resumption r) {
    SessionModel m =
        new SessionModel(id, workspaceId, serverId, policy, r.openedBy(), r.startedMs(), r.size());
    m.serverHello = r.serverHello();
    m.clientProof = r.clientProof();
    m.grants = List.copyOf(r.grants());
    m.keyContext = r.keyContext();
    m.payloadKeyId = r.outputKeyId();
    m.outputKeyEpoch = r.outputKeyEpoch();
    for (KeyGrant g : r.grants()) {
      if (isOutput(g)) {
        m.grantKeyIds.add(hex(g.getRecipientKeyId()));
      }
    }
    for (KeyGrant g : r.epochGrants()) {
      m.grantKeyIds.add(hex(g.getRecipientKeyId()));
    }
    m.resumedControllerKey = r.controllerKeyHex().isEmpty() ? null : r.controllerKeyHex();
    m.resume = r.resume();
    m.nextSequence = r.nextSequence();
    m.phase = Phase.LIVE;
    return m;
  }

  // ---------------------------------------------------------------- handshake (opening → live)

  /** The server's SERVER_HELLO: only as the first step. */
  public Decision serverHello(SignedMessage hello) {
    if (phase != Phase.AWAIT_HELLO) {
      return Decision.rejected(WebTtyReason.WEBTTY_REASON_UNEXPECTED);
    }
    serverHello = hello;
    phase = Phase.AWAIT_PROOF;
    return Decision.ACCEPTED;
  }

  /**
   * The opener's CLIENT_PROOF (v2): one output key granted to every recipient and one input key
   * (the server's and the opener's); each role's grants name one key, the two keys differ, and the
   * opener's own key must hold an output grant.
   */
  public Decision clientProof(
      String participantId,
      List<KeyGrant> proofGrants,
      ByteString ownKeyId,
      ByteString publicKey,
      ByteString context,
      SignedMessage proof) {
    Participant p = participants.get(participantId);
    if (p == null) {
      return Decision.rejected(WebTtyReason.WEBTTY_REASON_NOT_PARTICIPANT);
    }
    if (phase != Phase.AWAIT_PROOF || !isOpener(p)) {
      return Decision.rejected(WebTtyReason.WEBTTY_REASON_UNEXPECTED);
    }
    ProofKeys keys = ProofKeys.of(proofGrants);
    if (keys == null) {
      return Decision.rejected(WebTtyReason.WEBTTY_REASON_MALFORMED);
    }
    grants = List.copyOf(proofGrants);
    for (KeyGrant g : grants) {
      if (isOutput(g)) {
        // joining needs the output key; the server's input grant alone admits nobody
        grantKeyIds.add(hex(g.getRecipientKeyId()));
      }
    }
    String ownKey = hex(ownKeyId);
    if (!grantKeyIds.contains(ownKey)) {
      return Decision.rejected(WebTtyReason.WEBTTY_REASON_NO_GRANT);
    }
    participants.put(p.id(), p.withKey(ownKey, publicKey));
    keyContext = context;
    clientProof = proof;
    payloadKeyId = keys.output();
    phase = Phase.AWAIT_READY;
    return Decision.ACCEPTED;
  }

  /** The server's READY: the session is live. */
  public Decision ready() {
    if (phase != Phase.AWAIT_READY) {
      return Decision.rejected(WebTtyReason.WEBTTY_REASON_UNEXPECTED);
    }
    phase = Phase.LIVE;
    return Decision.ACCEPTED;
  }

  // ---------------------------------------------------------------- the server's frames while live

  /** The server's output (DATA): live, and under the current output key. */
  public Decision output(ByteString sealedKeyId) {
    if (phase != Phase.LIVE) {
      return Decision.rejected(WebTtyReason.WEBTTY_REASON_NOT_READY);
    }
    if (!sealedKeyId.equals(payloadKeyId)) {
      return Decision.rejected(WebTtyReason.WEBTTY_REASON_WRONG_KEY_ID);
    }
    return Decision.ACCEPTED;
  }

  /** INPUT_KEY from the server: after the proof (the epoch-0 grant may precede READY) or live. */
  public Decision inputKey() {
    return phase == Phase.LIVE || phase == Phase.AWAIT_READY
        ? Decision.ACCEPTED
        : Decision.rejected(WebTtyReason.WEBTTY_REASON_NOT_READY);
  }

  /**
   * A share (OUTPUT_KEY): a fresh output key under a key context with added recipients. The engine
   * cannot verify the signed document (clients do); it takes the visible grants, which must all be
   * output grants of one key, to know the new key id and who may JOIN from now on.
   */
  public Decision outputKey(List<KeyGrant> shareGrants, SignedMessage epoch) {
    if (phase != Phase.LIVE) {
      return Decision.rejected(WebTtyReason.WEBTTY_REASON_NOT_READY);
    }
    ByteString newKey = null;
    Set<String> recipients = new LinkedHashSet<>();
    for (KeyGrant g : shareGrants) {
      if (!isOutput(g) || (newKey != null && !newKey.equals(g.getPayloadKeyId()))) {
        return Decision.rejected(WebTtyReason.WEBTTY_REASON_MALFORMED);
      }
      newKey = g.getPayloadKeyId();
      recipients.add(hex(g.getRecipientKeyId()));
    }
    payloadKeyId = newKey;
    grantKeyIds.addAll(recipients);
    outputKeyEpoch = epoch;
    return new Decision.Shared(Collections.unmodifiableSet(recipients));
  }

  // ---------------------------------------------------------------- participants' frames

  /** Stdin (DATA): live, the controller's, not under the output key, its counter increasing. */
  public Decision stdin(String participantId, ByteString sealedKeyId, long sequence) {
    if (phase != Phase.LIVE) {
      return Decision.rejected(WebTtyReason.WEBTTY_REASON_NOT_READY);
    }
    if (!participantId.equals(controllerId)) {
      return Decision.refused(WebTtyReason.WEBTTY_REASON_NOT_CONTROLLER);
    }
    if (sealedKeyId.equals(payloadKeyId)) {
      return Decision.rejected(WebTtyReason.WEBTTY_REASON_WRONG_KEY_ID);
    }
    if (sequence <= lastStdinSequence.getOrDefault(participantId, 0L)) {
      return Decision.rejected(WebTtyReason.WEBTTY_REASON_REPLAYED);
    }
    lastStdinSequence.put(participantId, sequence);
    return Decision.ACCEPTED;
  }

  /** RESIZE: live, from the controller. */
  public Decision resize(String participantId, TerminalSize newSize) {
    if (phase != Phase.LIVE) {
      return Decision.rejected(WebTtyReason.WEBTTY_REASON_NOT_READY);
    }
    if (!participantId.equals(controllerId)) {
      return Decision.refused(WebTtyReason.WEBTTY_REASON_NOT_CONTROLLER);
    }
    size = newSize;
    return Decision.ACCEPTED;
  }

  /** CONTROL_REQUEST: announced to everyone, unless the controller asks. */
  public Decision requestControl(String participantId) {
    return participantId.equals(controllerId) ? Decision.IGNORED : Decision.ACCEPTED;
  }

  /** CONTROL_GIVE: the controller or the opener hands control to a member or above. */
  public Decision giveControl(String byId, String toId) {
    Participant by = participants.get(byId);
    if (by == null || !(byId.equals(controllerId) || isOpener(by))) {
      return Decision.refused(WebTtyReason.WEBTTY_REASON_NOT_CONTROLLER);
    }
    Participant to = participants.get(toId);
    if (to == null || !to.role().atLeast(Role.MEMBER)) {
      return Decision.refused(WebTtyReason.WEBTTY_REASON_NOT_ALLOWED);
    }
    controllerId = to.id();
    resumedControllerKey = null; // control moved: the daemon retires the waiting key's input key
    return new Decision.ControlChanged(to, by);
  }

  /** CONTROL_TAKE: only the opener takes control back. */
  public Decision takeControl(String byId) {
    Participant by = participants.get(byId);
    if (by == null || !isOpener(by)) {
      return Decision.refused(WebTtyReason.WEBTTY_REASON_NOT_OWNER);
    }
    controllerId = by.id();
    resumedControllerKey = null;
    return new Decision.ControlChanged(by, by);
  }

  /**
   * SHARE: live, asked by the opener or the controller (the engine's cheap check; the daemon's is
   * the signature of the opener's key).
   */
  public Decision share(String byId) {
    if (phase != Phase.LIVE) {
      return Decision.rejected(WebTtyReason.WEBTTY_REASON_NOT_READY);
    }
    Participant by = participants.get(byId);
    if (by == null || (!isOpener(by) && !byId.equals(controllerId))) {
      return Decision.refused(WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_NOT_CONTROLLER);
    }
    return Decision.ACCEPTED;
  }

  /**
   * JOIN (a viewer, by the server's join policy) or ATTACH (the opener coming back, who takes
   * control when nobody holds it). Either needs a live session and an output grant for the key.
   */
  public Decision join(Participant who, boolean attach) {
    return join(who, attach, false);
  }

  /** {@code failover}: a failing-over client's re-join (it gets a waiting control back). */
  public Decision join(Participant who, boolean attach, boolean failover) {
    boolean opener = who.subject().equals(openedBy);
    WebTtyReason reason = null;
    if (phase != Phase.LIVE) {
      reason = WebTtyReason.WEBTTY_REASON_NOT_LIVE;
    } else if (attach && !opener) {
      reason = WebTtyReason.WEBTTY_REASON_NOT_OWNER;
    } else if (!attach && !mayJoin(policy.getJoin(), who.role(), opener)) {
      reason = WebTtyReason.WEBTTY_REASON_POLICY;
    } else if (!grantKeyIds.contains(who.keyIdHex())) {
      reason = WebTtyReason.WEBTTY_REASON_NO_GRANT;
    } else if (participants.containsKey(who.id())) {
      reason = WebTtyReason.WEBTTY_REASON_ALREADY_IN_SESSION;
    }
    if (reason != null) {
      return Decision.refused(reason);
    }
    Participant stale = sameIdentity(who);
    if (stale != null) {
      return rejoin(who, stale);
    }
    boolean vacant = controllerId == null || !participants.containsKey(controllerId);
    // after a failover the controller's key gets its role back silently; until then an ATTACH
    // does not take it (that would make the daemon retire the returning controller's key)
    boolean returning = who.keyIdHex().equals(resumedControllerKey);
    if (vacant && attach && !failover && onDisconnect) {
      resumedControllerKey = null; // a new ATTACH of the opener: control as after a detach
    }
    boolean control = attach && vacant && resumedControllerKey == null;
    participants.put(who.id(), who);
    if (vacant && returning && (failover || !onDisconnect)) {
      controllerId = who.id();
      resumedControllerKey = null;
    } else if (control) {
      controllerId = who.id();
    }
    return new Decision.Joined(who, control);
  }

  /**
   * The present participant {@code who} is, on a new connection (docs/webtty.md "An edge instance's
   * death"): same verified subject, key id (its grant) and public key; else null.
   */
  public Participant sameIdentity(Participant who) {
    for (Participant p : participants.values()) {
      if (!p.keyIdHex().isEmpty()
          && p.subject().equals(who.subject())
          && p.keyIdHex().equals(who.keyIdHex())
          && p.publicKey().equals(who.publicKey())) {
        return p;
      }
    }
    return null;
  }

  /** {@code who} takes {@code stale}'s place, its role (the same key) and its stdin counter. */
  private Decision rejoin(Participant who, Participant stale) {
    participants.remove(stale.id());
    participants.put(who.id(), who);
    long last = Optional.ofNullable(lastStdinSequence.remove(stale.id())).orElse(0L);
    lastStdinSequence.put(who.id(), last);
    if (stale.id().equals(controllerId)) {
      controllerId = who.id(); // no control change: the daemon keeps this key's input key
    }
    return new Decision.Rejoined(who, stale, last);
  }

  private static boolean mayJoin(JoinPolicy join, Role role, boolean opener) {
    if (opener) {
      return true;
    }
    return switch (join) {
      case JOIN_POLICY_GRANTED_MEMBERS -> role.atLeast(Role.VIEWER);
      case JOIN_POLICY_GRANTED_ADMINS -> role.atLeast(Role.ADMIN);
      default -> false;
    };
  }

  /** A participant leaves (CLOSE, disconnect, revocation, a rejected frame); empty when not one. */
  public Optional<Departure> leave(String participantId) {
    return leave(participantId, false);
  }

  /** {@code mayReturn}: its link dropped; as controller, control waits for its key (not told). */
  public Optional<Departure> leave(String participantId, boolean mayReturn) {
    Participant p = participants.remove(participantId);
    if (p == null) {
      return Optional.empty();
    }
    lastStdinSequence.remove(participantId);
    if (phase == Phase.ENDED) {
      return Optional.of(new Departure(p, false, Aftermath.NONE));
    }
    boolean controlDropped = p.id().equals(controllerId);
    if (controlDropped) {
      controllerId = null; // nobody types until control is given again, or its key is back
      if (mayReturn && phase == Phase.LIVE && !p.keyIdHex().isEmpty()) {
        resumedControllerKey = p.keyIdHex();
        onDisconnect = true;
        controlDropped = false; // the daemon keeps the input key for the returning key
      }
    }
    Aftermath next;
    if (phase != Phase.LIVE) {
      next = isOpener(p) ? Aftermath.END : Aftermath.NONE;
    } else {
      next = openerPresent() ? Aftermath.NONE : Aftermath.AWAIT_OPENER;
    }
    return Optional.of(new Departure(p, controlDropped && phase == Phase.LIVE, next));
  }

  /**
   * The participants a revocation voids ({@code voided} by their subject), in the order they came,
   * up to and including the opener: the others leave one by one, the opener's revocation ends the
   * session. The home does not know when a participant's token was issued, so the caller counts it
   * as issued before the revocation (fail closed).
   */
  public List<Participant> revokedBy(Predicate<String> voided) {
    List<Participant> out = new ArrayList<>();
    for (Participant p : participants.values()) {
      if (voided.test(p.subject())) {
        out.add(p);
        if (isOpener(p)) {
          break;
        }
      }
    }
    return out;
  }

  /** Ends the session; returns the phase it was in ({@link Phase#ENDED}: it had already ended). */
  public Phase end() {
    Phase was = phase;
    phase = Phase.ENDED;
    return was;
  }

  /** The next number of the session's gapless event sequence (1, 2, 3 …); it never steps back. */
  public long nextSequence() {
    return nextSequence++;
  }

  // ---------------------------------------------------------------- what the home reads

  public boolean isOpener(Participant p) {
    return p.subject().equals(openedBy);
  }

  public boolean openerPresent() {
    return participants.values().stream().anyMatch(this::isOpener);
  }

  /** The opener's participant, if they are here. */
  public Optional<Participant> opener() {
    return participants.values().stream().filter(this::isOpener).findFirst();
  }

  public Optional<Participant> participant(String participantId) {
    return Optional.ofNullable(participants.get(participantId));
  }

  /** The participants in the order they came (a copy: callers may leave or end while iterating). */
  public List<Participant> participants() {
    return new ArrayList<>(participants.values());
  }

  /** The participants, read only, in the order they came (fan-out). */
  public Collection<Participant> present() {
    return Collections.unmodifiableCollection(participants.values());
  }

  public ParticipantRole roleOf(Participant p) {
    return p.id().equals(controllerId)
        ? ParticipantRole.PARTICIPANT_ROLE_CONTROLLER
        : ParticipantRole.PARTICIPANT_ROLE_VIEWER;
  }

  public Optional<String> controllerId() {
    return Optional.ofNullable(controllerId);
  }

  public long lastSequence() {
    return nextSequence - 1;
  }

  public String id() {
    return id;
  }

  public UUID workspaceId() {
    return workspaceId;
  }

  public String serverId() {
    return serverId;
  }

  public ServerPolicy policy() {
    return policy;
  }

  public String openedBy() {
    return openedBy;
  }

  public long startedMs() {
    return startedMs;
  }

  public Phase phase() {
    return phase;
  }

  public TerminalSize size() {
    return size;
  }

  public SignedMessage serverHello() {
    return serverHello;
  }

  public SignedMessage clientProof() {
    return clientProof;
  }

  public List<KeyGrant> grants() {
    return grants;
  }

  public ByteString keyContext() {
    return keyContext;
  }

  /** The daemon-signed resume document after a failover (empty: never moved). */
  public Optional<SignedMessage> resume() {
    return Optional.ofNullable(resume);
  }

  public Optional<SignedMessage> outputKeyEpoch() {
    return Optional.ofNullable(outputKeyEpoch);
  }

  static boolean isOutput(KeyGrant g) {
    return "output".equals(g.getKeyRole());
  }

  private static String hex(ByteString b) {
    return HEX.formatHex(b.toByteArray());
  }
}
