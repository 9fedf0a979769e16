package dev.umbra.daemon.tty;

import com.pty4j.PtyProcess;
import com.pty4j.PtyProcessBuilder;
import com.pty4j.WinSize;
import com.pty4j.unix.UnixPtyProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A process in a real pseudo-terminal: bytes in and out, window size, exit status. pty4j starts the
 * process and sets the window size; on Linux the terminal's bytes go through {@link PtyMaster}
 * (direct reads and writes on the master), elsewhere through pty4j's streams.
 *
 * <p>One thread reads at a time; writes may come from any thread.
 */
public final class PtyShell implements AutoCloseable {
  private final PtyProcess process;
  private final OutputStream stdin;
  private final InputStream stdout;

  /** Null where {@link PtyMaster#SUPPORTED} is false: pty4j's streams are used then. */
  private final PtyMaster master;

  private PtyShell(PtyProcess process, PtyMaster master) {
    this.process = process;
    this.stdin = process.getOutputStream();
    this.stdout = process.getInputStream();
    this.master = master;
  }

  /** Starts {@code command} with exactly {@code env}, in {@code dir}, at the given size. */
  public static PtyShell start(
      List<String> command, Map<String, String> env, String dir, int cols, int rows)
      throws IOException {
    PtyProcess p =
        new PtyProcessBuilder(command.toArray(String[]::new))
            .setEnvironment(env)
            .setDirectory(dir)
            .setInitialColumns(cols)
            .setInitialRows(rows)
            .setRedirectErrorStream(true)
            .setConsole(false)
            .start();
    PtyMaster master = null;
    if (PtyMaster.SUPPORTED && p instanceof UnixPtyProcess u) {
      try {
        master = PtyMaster.open(u.getPty().getMasterFD());
      } catch (IOException e) {
        p.destroy();
        throw e;
      }
      PtyMaster m = master;
      // reads end when the shell exits even if a background job still holds the terminal open
      Thread.ofPlatform()
          .daemon()
          .name("tty-exit")
          .stackSize(256 * 1024)
          .start(
              () -> {
                try {
                  p.waitFor();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                m.processExited();
              });
    }
    return new PtyShell(p, master);
  }

  /** Blocking read of the terminal's output (the PTY merges stdout and stderr); -1 at the end. */
  public int read(byte[] buf) throws IOException {
    return read(buf, 0, buf.length);
  }

  public int read(byte[] buf, int off, int len) throws IOException {
    return master != null ? master.read(buf, off, len) : stdout.read(buf, off, len);
  }

  /** Bytes readable without blocking (0 when unknown): FIONREAD on the master. */
  public int available() {
    return master == null ? 0 : Math.max(0, master.available());
  }

  /**
   * Blocks for output, then gathers what belongs to the same burst into {@code buf}: what is
   * already waiting, and, while the program keeps filling the PTY (each read a full kernel buffer),
   * what arrives within {@link PtyMaster#BURST_GAP_NANOS}. A single echo or a prompt returns at
   * once; a {@code cat} of a large file becomes a few large chunks instead of thousands of 4 KiB
   * ones (fewer frames to seal, route and record). Returns -1 at the end. Without {@link PtyMaster}
   * (not Linux): one plain read.
   */
  public int readBurst(byte[] buf) throws IOException {
    return master != null ? master.readBurst(buf) : stdout.read(buf);
  }

  /**
   * {@link #readBurst(byte[])} into a new array of exactly the bytes read, at most {@code max}
   * (copied once on Linux); null at the end.
   */
  public byte[] readBurst(int max) throws IOException {
    if (master != null) {
      return master.readBurst(max);
    }
    byte[] buf = new byte[max];
    int n = stdout.read(buf);
    return n < 0 ? null : Arrays.copyOf(buf, n);
  }

  /** Writes all of {@code bytes}, waiting while the terminal's input queue is full. */
  public void write(byte[] bytes) throws IOException {
    if (master != null) {
      master.write(bytes, 0, bytes.length);
    } else {
      stdin.write(bytes);
      stdin.flush();
    }
  }

  /**
   * Writes what the terminal takes right now without ever blocking (safe on an event loop): the
   * number of bytes written, 0 when its input queue is full or when only blocking writes are
   * available (not Linux) — the caller then hands the rest to a thread that may wait.
   */
  public int writeNow(byte[] bytes, int off, int len) throws IOException {
    return master != null ? master.writeNow(bytes, off, len) : 0;
  }

  public void resize(int cols, int rows) {
    process.setWinSize(new WinSize(cols, rows));
  }

  public boolean alive() {
    return process.isAlive();
  }

  /**
   * Waits for the process; the exit status (128 + n when killed by signal n, as shells report it).
   */
  public int waitFor() throws InterruptedException {
    return process.waitFor();
  }

  /** Whether this shell's own descriptors are closed (always true without {@link PtyMaster}). */
  boolean descriptorsReleased() {
    return master == null || master.released();
  }

  /**
   * Kills the process if it still runs and ends reads and writes in progress (they return the end).
   */
  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
    }
    if (master != null) {
      master.close();
    }
  }
}
