package dev.umbra.webtty.session;

import com.google.protobuf.ByteString;
import dev.umbra.kit.auth.Role;
import dev.umbra.kit.bus.Subscription;
import dev.umbra.proto.webtty.KeyGrant;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.proto.webtty.ServerPolicy;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.TerminalSize;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * A session as its home instance (the one holding the server's connection) keeps it: the one
 * authority on state, participants, controller and event order. Confined to the event loop.
 */
final class Session {
  enum State { AWAIT_HELLO, AWAIT_PROOF, AWAIT_READY, LIVE, ENDED }

  /** A participant: who (from their verified token), where (instance), role, crypto identity. */
  static final class Part {
    final String id;
    final String subject;
    final Role role;
    final String tokenId;
    final String instance;
    final String keyIdHex;
    ParticipantRole participantRole;
    long lastStdinSequence;
    /** The X25519 public key it announced (JOIN, ATTACH, CLIENT_PROOF); passed to the server on control changes. */
    ByteString publicKey = ByteString.EMPTY;

    Part(String id, String subject, Role role, String tokenId, String instance, String keyIdHex, ParticipantRole pr) {
      this.id = id;
      this.subject = subject;
      this.role = role;
      this.tokenId = tokenId;
      this.instance = instance;
      this.keyIdHex = keyIdHex;
      this.participantRole = pr;
    }
  }

  final String id;
  final UUID workspaceId;
  final String serverId;
  final ServerConn server;
  final ServerPolicy policy;
  final String openedBy;
  final long startedMs;
  final Map<String, Part> participants = new LinkedHashMap<>();
  State state = State.AWAIT_HELLO;
  String controllerId;
  long nextSequence = 1;
  TerminalSize size;
  SignedMessage serverHello;
  SignedMessage clientProof;
  List<KeyGrant> grants = List.of();
  Set<String> grantKeyIds = new HashSet<>();
  ByteString keyContext = ByteString.EMPTY;
  /** The output key's id (stdout/stderr from the server); input keys are the daemon's to check. */
  ByteString payloadKeyId = ByteString.EMPTY;
  /** The latest daemon-signed output-key epoch (a share), handed to joiners in JOINED; null before any. */
  SignedMessage outputKeyEpoch;
  boolean stored;
  Subscription channel;
  long timer = -1;

  Session(String id, UUID workspaceId, String serverId, ServerConn server, String openedBy, long startedMs, TerminalSize size) {
    this.id = id;
    this.workspaceId = workspaceId;
    this.serverId = serverId;
    this.server = server;
    this.policy = server.policy;
    this.openedBy = openedBy;
    this.startedMs = startedMs;
    this.size = size;
  }

  long nextSeq() {
    return nextSequence++;
  }
}
