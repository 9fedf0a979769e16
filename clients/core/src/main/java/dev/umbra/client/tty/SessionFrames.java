package dev.umbra.client.tty;

import com.google.protobuf.ByteString;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.TerminalSize;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.proto.webtty.WebTtyReasons;

/**
 * The plaintext frames a {@link TtyClient} sends to the engine (docs/webtty.md): the first frame of
 * a connection and the session commands. What they carry is routing and control, never terminal
 * bytes; those go sealed ({@link InputSealer}).
 */
final class SessionFrames {
  private SessionFrames() {}

  static WebTtyFrame open(String serverId, int cols, int rows) {
    return WebTtyFrame.newBuilder()
        .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_OPEN)
        .setServerId(serverId)
        .setSize(TerminalSize.newBuilder().setCols(cols).setRows(rows))
        .build();
  }

  /** JOIN as a viewer or ATTACH to one's own session, naming the key to be granted output with. */
  static WebTtyFrame join(String sessionId, boolean attach, X25519PublicKey key) {
    return WebTtyFrame.newBuilder()
        .setType(
            attach
                ? WebTtyFrameType.WEBTTY_FRAME_TYPE_ATTACH
                : WebTtyFrameType.WEBTTY_FRAME_TYPE_JOIN)
        .setSessionId(sessionId)
        .setKeyId(ByteString.copyFrom(KeyId.of(key).toBytes()))
        .setPublicKey(ByteString.copyFrom(key.toBytes()))
        .build();
  }

  static WebTtyFrame share(String sessionId, SignedMessage request) {
    return WebTtyFrame.newBuilder()
        .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_SHARE)
        .setSessionId(sessionId)
        .setShareRequest(request)
        .build();
  }

  /** CONTROL_REQUEST, CONTROL_TAKE and other commands naming only the session. */
  static WebTtyFrame command(WebTtyFrameType type, String sessionId) {
    return WebTtyFrame.newBuilder().setType(type).setSessionId(sessionId).build();
  }

  static WebTtyFrame giveControl(String sessionId, String participant) {
    return WebTtyFrame.newBuilder()
        .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CONTROL_GIVE)
        .setSessionId(sessionId)
        .setParticipantId(participant)
        .build();
  }

  /** CLOSE: {@code DETACHED} leaves the shell running, {@code TERMINATE} ends it. */
  static WebTtyFrame close(String sessionId, WebTtyReason reason) {
    return WebTtyFrame.newBuilder()
        .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLOSE)
        .setSessionId(sessionId)
        .setReason(WebTtyReasons.wire(reason))
        .build();
  }
}
