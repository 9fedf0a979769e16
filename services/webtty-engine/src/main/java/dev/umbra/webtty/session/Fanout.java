package dev.umbra.webtty.session;

import dev.umbra.proto.webtty.RecordedEvent;
import dev.umbra.proto.webtty.RecordedKind;
import dev.umbra.proto.webtty.RecordingHeader;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyBusMessage;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.webtty.recording.RecordingWriter;
import dev.umbra.webtty.recording.StoredEvent;
import dev.umbra.webtty.session.model.Participant;
import dev.umbra.webtty.session.model.SessionModel;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a session home sends out: frames stamped with the session's next sequence number and the
 * time, recording rows by the server's policy (views of the ciphertext, not copies), and deliveries
 * through the {@link EdgeRouter}, one per instance so a frame is serialized once for all the local
 * participants.
 */
final class Fanout {
  private final Clock clock;
  private final RecordingWriter writer;
  private final EdgeRouter edge;

  Fanout(Clock clock, RecordingWriter writer, EdgeRouter edge) {
    this.clock = clock;
    this.writer = writer;
    this.edge = edge;
  }

  WebTtyFrame stamp(Session s, WebTtyFrame f) {
    return f.toBuilder()
        .setSessionId(s.id())
        .setSequence(s.model.nextSequence())
        .setTimeUnixMs(clock.millis())
        .build();
  }

  static RecordedEvent.Builder event(WebTtyFrame stamped, RecordedKind kind) {
    return RecordedEvent.newBuilder()
        .setSequence(stamped.getSequence())
        .setTimeUnixMs(stamped.getTimeUnixMs())
        .setKind(kind);
  }

  /**
   * The session's recording row, made when the opener's proof is accepted: its header holds what an
   * export needs to read the events (key context, grants, handshake).
   */
  void createRecording(Session s, SignedMessage clientProof) {
    SessionModel m = s.model;
    RecordingHeader header =
        RecordingHeader.newBuilder()
            .setSessionId(m.id())
            .setWorkspaceId(m.workspaceId().toString())
            .setServerId(m.serverId())
            .setOpenedBy(m.openedBy())
            .setStartedUnixMs(m.startedMs())
            .setKeyContext(m.keyContext())
            .addAllGrants(m.grants())
            .setInitialSize(m.size())
            .setServerHello(m.serverHello())
            .setClientProof(clientProof)
            .build();
    writer.createSession(
        m.workspaceId(),
        m.id(),
        m.serverId(),
        m.openedBy(),
        m.policy().getRecording(),
        m.startedMs(),
        header.toByteArray());
  }

  void record(Session s, RecordedEvent e) {
    var policy = s.model.policy();
    // record_stdin absent (an older daemon) keeps stdin recorded, as before the field existed
    boolean skipStdin =
        policy.hasRecordStdin()
            && !policy.getRecordStdin()
            && e.getKind() == RecordedKind.RECORDED_KIND_DATA
            && e.getStream() == TtyStream.TTY_STREAM_STDIN;
    if (policy.getRecording() && !skipStdin) {
      writer.record(new StoredEvent(s.model.workspaceId(), s.id(), e));
    }
  }

  void sendTo(Participant p, WebTtyFrame f) {
    edge.deliver(p.instance(), List.of(p.id()), f);
  }

  /** Sends a frame to one participant known only by its header (not yet in the session). */
  void replyTo(WebTtyBusMessage who, WebTtyFrame f) {
    edge.deliver(who.getOrigin(), List.of(who.getParticipantId()), f);
  }

  void sendToAll(Session s, WebTtyFrame f) {
    sendToAllBut(s, null, f);
  }

  /** One delivery per instance (one serialization for the local ones), in instance order. */
  void sendToAllBut(Session s, String exceptId, WebTtyFrame f) {
    Map<String, List<String>> byInstance = new TreeMap<>();
    for (var p : s.model.present()) {
      if (!p.id().equals(exceptId)) {
        byInstance.computeIfAbsent(p.instance(), k -> new ArrayList<>()).add(p.id());
      }
    }
    for (var e : byInstance.entrySet()) {
      edge.deliver(e.getKey(), e.getValue(), f);
    }
  }
}
