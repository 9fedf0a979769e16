package dev.umbra.daemon.tty;

import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyReason;

/** What a session's parts ask of the {@link TtyServer}: a frame to the engine, a session ended. */
interface SessionLink {
  /** Sends {@code frame} on the engine socket (dropped while disconnected). */
  void send(WebTtyFrame frame);

  /** Sends a frame already serialized (a stdout DATA frame, {@link OutputFrames}). */
  void send(byte[] serializedFrame);

  /** Ends {@code session}, telling the engine why. */
  void end(ServerSession session, WebTtyReason reason);

  /** The shell exited with {@code status} after all its output was sent. */
  void exited(ServerSession session, int status);
}
