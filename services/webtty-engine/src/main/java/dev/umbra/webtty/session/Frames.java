package dev.umbra.webtty.session;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.kit.bus.BusMessage;
import dev.umbra.proto.webtty.BusDirection;
import dev.umbra.proto.webtty.JoinPolicy;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.proto.webtty.ServerPolicy;
import dev.umbra.proto.webtty.WebTtyBusMessage;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.proto.webtty.WebTtyReasons;
import dev.umbra.webtty.metrics.EngineMetrics;
import dev.umbra.webtty.session.model.Participant;
import dev.umbra.webtty.session.model.SessionModel;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The engine's own frames: ERROR (the receiver's connection ends) and REFUSED (it stays), JOINED,
 * CONTROL_CHANGED for the server, and the reading of its bus messages.
 */
final class Frames {
  private static final HexFormat HEX = HexFormat.of();

  private Frames() {}

  static WebTtyFrame error(String sessionId, WebTtyReason reason) {
    return withReason(WebTtyFrameType.WEBTTY_FRAME_TYPE_ERROR, sessionId, reason);
  }

  static WebTtyFrame refused(String sessionId, WebTtyReason reason) {
    return withReason(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED, sessionId, reason);
  }

  /** The routing header of a client connection's frames towards its session's home. */
  static WebTtyBusMessage toHome(String instanceId, ClientConn conn) {
    return WebTtyBusMessage.newBuilder()
        .setOrigin(instanceId)
        .setDirection(BusDirection.BUS_DIRECTION_TO_HOME)
        .setParticipantId(conn.participantId)
        .setWorkspaceId(conn.claims.workspaceId().toString())
        .setSubject(conn.claims.subject())
        .setRole(conn.claims.role().wire())
        .setTokenId(conn.claims.tokenId())
        .build();
  }

  /** REGISTERED: the server's registration with the policy in force. */
  static WebTtyFrame registered(String serverId, ServerPolicy policy) {
    return WebTtyFrame.newBuilder()
        .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_REGISTERED)
        .setServerId(serverId)
        .setPolicy(policy)
        .build();
  }

  /** An unknown or missing join rule is the strictest one: nobody joins. */
  static ServerPolicy normalized(ServerPolicy p) {
    if (p.getJoin() == JoinPolicy.JOIN_POLICY_UNSPECIFIED
        || p.getJoin() == JoinPolicy.UNRECOGNIZED) {
      return p.toBuilder().setJoin(JoinPolicy.JOIN_POLICY_NOBODY).build();
    }
    return p;
  }

  /** JOINED: what a joiner needs to read the session from now on. */
  static WebTtyFrame joined(SessionModel m, Participant p) {
    WebTtyFrame.Builder joined =
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_JOINED)
            .setSessionId(m.id())
            .setServerId(m.serverId())
            .setParticipantId(p.id())
            .setRole(m.roleOf(p))
            .addAllGrants(m.grants())
            .setKeyContext(m.keyContext())
            .setServerHello(m.serverHello())
            .setClientProof(m.clientProof())
            .setSize(m.size())
            .setSequence(m.lastSequence());
    // after a share: the joiner reads under the latest output key (its grant is in this document)
    m.outputKeyEpoch().ifPresent(joined::setOutputKeyEpoch);
    for (var q : m.present()) {
      joined.addParticipants(
          dev.umbra.proto.webtty.Participant.newBuilder()
              .setParticipantId(q.id())
              .setRole(m.roleOf(q)));
    }
    return joined.build();
  }

  /**
   * CONTROL_CHANGED for the server: who controls now ({@code to}, with the key the daemon wraps the
   * fresh input key to), or nobody ({@code to} null).
   */
  static WebTtyFrame controlForServer(String sessionId, Participant to) {
    WebTtyFrame.Builder f =
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_CHANGED)
            .setSessionId(sessionId);
    if (to != null) {
      f.setParticipantId(to.id())
          .setRole(ParticipantRole.PARTICIPANT_ROLE_CONTROLLER)
          .setPublicKey(to.publicKey())
          .setKeyId(ByteString.copyFrom(HEX.parseHex(to.keyIdHex())));
    }
    return f.build();
  }

  private static WebTtyFrame withReason(
      WebTtyFrameType type, String sessionId, WebTtyReason reason) {
    return WebTtyFrame.newBuilder()
        .setType(type)
        .setSessionId(sessionId == null ? "" : sessionId)
        .setReason(WebTtyReasons.wire(reason))
        .build();
  }

  /** An engine bus message, or empty (dropped, counted as malformed) when it does not parse. */
  static Optional<WebTtyBusMessage> busMessage(BusMessage m, EngineMetrics metrics) {
    try {
      return Optional.of(WebTtyBusMessage.parseFrom(m.body().getBytes()));
    } catch (InvalidProtocolBufferException e) {
      metrics.dropped("malformed_bus_message");
      return Optional.empty();
    }
  }
}
