package dev.umbra.cli.tty;

import dev.umbra.client.tty.TtyClient;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.proto.webtty.WebTtyReasons;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The session as the local terminal shows it: output written through, engine events as {@code
 * [umbra]} notes, and where the session's end lands (an exit status, or a reason it closed).
 */
final class TerminalListener implements TtyClient.Listener {
  final OutputStream out;
  final CompletableFuture<Integer> done = new CompletableFuture<>();

  /**
   * Why the session closed, set before {@link #done} completes: whoever wakes on {@code done} (the
   * command's main thread) reads it, so it must be there first (it once was appended after, and the
   * command printed an empty reason).
   */
  private final AtomicReference<String> reason = new AtomicReference<>();

  TerminalListener(OutputStream out) {
    this.out = out;
  }

  @Override
  public void output(byte[] bytes) {
    try {
      out.write(bytes);
      out.flush();
    } catch (IOException e) {
      // the local terminal went away; the session stays
    }
  }

  @Override
  public void exit(int status) {
    done.complete(status);
  }

  @Override
  public void closed(String why) {
    if (reason.compareAndSet(null, why == null || why.isEmpty() ? "no reason given" : why)) {
      done.complete(null);
    }
  }

  /** Why the session closed (once {@link #done} completed without a status), or "". */
  String reason() {
    String r = reason.get();
    return r == null ? "" : r;
  }

  @Override
  public void event(WebTtyFrame f) {
    String note =
        switch (f.getType()) {
          case WEBTTY_FRAME_TYPE_CONTROL_REQUEST ->
              "participant "
                  + f.getParticipantId()
                  + " asks for control: `umbra tty control give "
                  + f.getParticipantId()
                  + "`";
          case WEBTTY_FRAME_TYPE_CONTROL_CHANGED -> "control is now with " + f.getParticipantId();
          case WEBTTY_FRAME_TYPE_PARTICIPANT_JOINED ->
              "participant " + f.getParticipantId() + " joined";
          case WEBTTY_FRAME_TYPE_PARTICIPANT_LEFT ->
              "participant " + f.getParticipantId() + " left";
          case WEBTTY_FRAME_TYPE_REFUSED -> "refused: " + f.getReason();
          case WEBTTY_FRAME_TYPE_RESUMED ->
              WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_EDGE_FAILOVER).equals(f.getReason())
                  ? "engine failover: this terminal's engine instance died; reconnected to "
                      + f.getSessionId()
                      + " through another (same keys; the session's home kept its place)"
                  : "engine failover: the session's engine instance died; reconnected to "
                      + f.getSessionId()
                      + " on another (same keys; the daemon's signed resume verified)";
          case WEBTTY_FRAME_TYPE_OUTPUT_KEY ->
              "new output key: the session is now shared with "
                  + f.getGrantsCount()
                  + " recipient(s) (including the server)";
          default -> null;
        };
    if (note != null) {
      output(("\r\n[umbra] " + note + "\r\n").getBytes(StandardCharsets.UTF_8));
    }
  }

  @Override
  public void integrity(String problem, long count) {
    String note =
        "output_gap".equals(problem)
            ? "output gap: " + count + " frame(s) missing"
            : "refused a repeated output frame (counter " + count + ")";
    output(("\r\n[umbra] " + note + "\r\n").getBytes(StandardCharsets.UTF_8));
  }
}
