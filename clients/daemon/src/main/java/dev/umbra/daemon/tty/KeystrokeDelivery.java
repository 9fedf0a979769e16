package dev.umbra.daemon.tty;

import dev.umbra.client.tty.TtyStats;
import java.util.Arrays;

/**
 * Opened keystrokes on their way into a session's PTY (docs/webtty.md): straight from the event
 * loop or through the writer thread.
 */
final class KeystrokeDelivery {
  private KeystrokeDelivery() {}

  /**
   * Hands opened keystrokes to the PTY, in order. On the event loop itself when the writer thread
   * has nothing queued and the shell has spoken: a write that never blocks ({@link
   * PtyShell#writeNow}) takes a keystroke straight to the terminal, saving a thread wake-up per
   * keystroke (a round trip on a loaded 2-vCPU machine pays several milliseconds at p99 for each
   * hop). What the PTY does not take at once, and anything while earlier writes are still queued,
   * goes to the writer thread, which may wait.
   */
  static void deliver(ServerSession s, byte[] bytes, TtyStats stats) {
    int written = 0;
    if (s.queuedWrites.get() == 0 && s.firstOutput.isDone()) {
      try {
        written = s.shell.writeNow(bytes, 0, bytes.length);
      } catch (Exception e) {
        stats.count("pty_write_failed");
        return;
      }
      if (written == bytes.length) {
        stats.count("stdin_frames");
        return;
      }
    }
    byte[] rest = written == 0 ? bytes : Arrays.copyOfRange(bytes, written, bytes.length);
    s.queuedWrites.incrementAndGet();
    s.writer.execute(
        () -> {
          try {
            try {
              s.firstOutput.get(1, java.util.concurrent.TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException
                | java.util.concurrent.ExecutionException e) {
              // a silent shell: type anyway
            }
            s.shell.write(rest);
            stats.count("stdin_frames");
          } catch (Exception e) {
            stats.count("pty_write_failed");
          } finally {
            s.queuedWrites.decrementAndGet();
          }
        });
  }
}
