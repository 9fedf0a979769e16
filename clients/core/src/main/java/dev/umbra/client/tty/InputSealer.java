package dev.umbra.client.tty;

import dev.umbra.crypto.webtty.PayloadSender;
import dev.umbra.crypto.webtty.SealedPayload;
import dev.umbra.crypto.webtty.Stream;
import dev.umbra.proto.webtty.TerminalSize;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.proto.webtty.WebTtyReasons;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * What a {@link TtyClient} types (docs/webtty.md "Control"): keystrokes and sizes sealed under its
 * input key while it controls; while control is on its way to it (taken, or re-attached with it),
 * keystrokes held (at most one frame's worth) until the daemon's key arrives; otherwise refused
 * here, as the engine would. Any thread may type: every method holds this object's lock.
 */
final class InputSealer {
  private final TtyStats stats;
  private final TtyClient.Listener listener;
  private final Consumer<WebTtyFrame> write;
  private final Supplier<String> sessionId;

  /** Our input key while we control (null otherwise). */
  private PayloadSender input;

  private long epoch;

  /**
   * Control is moving to us: what is typed until its key arrives is held in {@link #pendingStdin}.
   */
  private boolean controlPending;

  private final ByteArrayOutputStream pendingStdin = new ByteArrayOutputStream();
  private long stdinSequence;

  InputSealer(
      TtyStats stats,
      TtyClient.Listener listener,
      Consumer<WebTtyFrame> write,
      Supplier<String> sessionId) {
    this.stats = stats;
    this.listener = listener;
    this.write = write;
    this.sessionId = sessionId;
  }

  /**
   * Encrypts and sends keystrokes under our input key. Without one (a viewer, or control not ours
   * yet) nothing is sent: the keystrokes are refused here, counted, and reported to the listener as
   * {@code REFUSED not_controller}, as the engine would.
   */
  synchronized void send(byte[] bytes) {
    if (input == null && controlPending) {
      if (pendingStdin.size() + bytes.length > TtyFrames.MAX_PLAINTEXT) {
        stats.count("stdin_dropped_awaiting_key");
      } else {
        pendingStdin.writeBytes(bytes);
      }
      return;
    }
    if (input == null) {
      stats.count("stdin_without_control");
      listener.event(
          WebTtyFrame.newBuilder()
              .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED)
              .setSessionId(sessionId.get())
              .setReason(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_NOT_CONTROLLER))
              .build());
      return;
    }
    for (int off = 0; off < bytes.length; off += TtyFrames.MAX_PLAINTEXT) {
      byte[] chunk =
          Arrays.copyOfRange(bytes, off, Math.min(bytes.length, off + TtyFrames.MAX_PLAINTEXT));
      write.accept(stdinFrame(input.seal(Stream.STDIN, chunk)));
    }
  }

  private WebTtyFrame stdinFrame(SealedPayload p) {
    return WebTtyFrame.newBuilder()
        .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_DATA)
        .setSessionId(sessionId.get())
        .setStream(TtyStream.TTY_STREAM_STDIN)
        .setSequence(++stdinSequence)
        .setSealed(TtyFrames.toProto(p))
        .build();
  }

  /**
   * Seals stdin like {@link #send} and lets {@code tamper} change the frame first (tests of the
   * server's checks).
   */
  synchronized void sendTampered(byte[] bytes, UnaryOperator<WebTtyFrame> tamper) {
    write.accept(tamper.apply(stdinFrame(input.seal(Stream.STDIN, bytes))));
  }

  /**
   * The terminal size, sealed under our input key (the visible size is for the engine and viewers).
   */
  synchronized void resize(int cols, int rows) {
    WebTtyFrame.Builder f =
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESIZE)
            .setSessionId(sessionId.get())
            .setSize(TerminalSize.newBuilder().setCols(cols).setRows(rows));
    if (input == null) {
      stats.count("resize_without_control");
      return;
    }
    f.setSealed(
        TtyFrames.toProto(input.seal(Stream.RESIZE, TtyFrames.resizePlaintext(cols, rows))));
    write.accept(f.build());
  }

  /** True while this client holds an input key (it controls the session). */
  synchronized boolean hasControl() {
    return input != null;
  }

  /** The current input sender, or null (tests: a previous controller's key, to replay with). */
  synchronized PayloadSender sender() {
    return input;
  }

  /** The opener's own input key (epoch 0), made in its proof. */
  synchronized void opened(PayloadSender openersKey) {
    input = openersKey;
  }

  /**
   * Control is coming to us (a take by the opener, a re-attach with control): hold what is typed
   * until its key.
   */
  synchronized void awaitKey() {
    controlPending = true;
  }

  /**
   * This client takes control (it may: the opener): hold what is typed until the key the change
   * brings.
   */
  synchronized void taking() {
    if (input == null) {
      controlPending = true;
    }
  }

  /** The input key epoch last received (0: none after the opener's). */
  synchronized long epoch() {
    return epoch;
  }

  /**
   * The daemon's key of {@code epoch} for us: typing resumes with it, and what was held is sent
   * first.
   */
  synchronized void keyArrived(long epoch, PayloadSender key) {
    this.epoch = epoch;
    input = key;
    controlPending = false;
    if (pendingStdin.size() > 0) {
      byte[] typed = pendingStdin.toByteArray();
      pendingStdin.reset();
      send(typed);
    }
  }

  /** Control moved ({@code toUs}: to this client): our key (if any) is retired. */
  synchronized void controlChanged(boolean toUs) {
    input = null;
    if (!toUs || !controlPending) {
      // what was held for a take that went to someone else is not ours to send; what the opener
      // typed after its own CONTROL_TAKE (held since then) waits for the key this change brings
      pendingStdin.reset();
    }
    controlPending = toUs;
  }

  /**
   * Our CONTROL_TAKE was refused: nothing held for it will be sent (unless control is already ours,
   * {@code changeHeld}).
   */
  synchronized void takeRefused(boolean changeHeld) {
    if (input == null && controlPending && !changeHeld) {
      controlPending = false;
      pendingStdin.reset();
    }
  }
}
