package dev.umbra.daemon.tty;

import com.pty4j.PtyProcess;
import com.pty4j.PtyProcessBuilder;
import com.pty4j.WinSize;
import com.pty4j.unix.UnixPtyProcess;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Platform;
import com.sun.jna.ptr.IntByReference;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;

/** A process in a real pseudo-terminal (pty4j): bytes in and out, window size, exit status. */
public final class PtyShell implements AutoCloseable {
  /**
   * The kernel hands a PTY master at most one line-discipline buffer (4 KiB) per read. A read at
   * least this long means the program is writing faster than we read: more is about to come.
   */
  static final int FULL_READ = 4000;
  /** How long {@link #readBurst} waits for the next piece of a burst before sending what it has. */
  static final long BURST_GAP_NANOS = 50_000;

  private final PtyProcess process;
  private final OutputStream stdin;
  private final InputStream stdout;
  private final int masterFd;

  private PtyShell(PtyProcess process) {
    this.process = process;
    this.stdin = process.getOutputStream();
    this.stdout = process.getInputStream();
    this.masterFd = process instanceof UnixPtyProcess u && Readiness.SUPPORTED ? u.getPty().getMasterFD() : -1;
  }

  /** Starts {@code command} with exactly {@code env}, in {@code dir}, at the given size. */
  public static PtyShell start(List<String> command, Map<String, String> env, String dir, int cols, int rows)
      throws IOException {
    PtyProcess p = new PtyProcessBuilder(command.toArray(String[]::new))
        .setEnvironment(env)
        .setDirectory(dir)
        .setInitialColumns(cols)
        .setInitialRows(rows)
        .setRedirectErrorStream(true)
        .setConsole(false)
        .start();
    return new PtyShell(p);
  }

  /** Blocking read of the terminal's output (the PTY merges stdout and stderr); -1 at the end. */
  public int read(byte[] buf) throws IOException {
    return stdout.read(buf);
  }

  public int read(byte[] buf, int off, int len) throws IOException {
    return stdout.read(buf, off, len);
  }

  /**
   * Bytes readable without blocking (0 when unknown). pty4j's own {@code available()} always
   * says 0, so this asks the kernel (FIONREAD on the master) where it can.
   */
  public int available() {
    return masterFd < 0 ? 0 : Math.max(0, Readiness.bytesReady(masterFd));
  }

  /**
   * Blocks for output, then gathers what belongs to the same burst into {@code buf}: what is
   * already waiting, and, while the program keeps filling the PTY (each read a full kernel
   * buffer), what arrives within {@link #BURST_GAP_NANOS}. A single echo or a prompt returns at
   * once; a {@code cat} of a large file becomes a few large chunks instead of thousands of 4 KiB
   * ones (fewer frames to seal, route and record). Returns -1 at the end.
   */
  public int readBurst(byte[] buf) throws IOException {
    int n = stdout.read(buf);
    if (n <= 0 || masterFd < 0) {
      return n;
    }
    boolean streaming = n >= FULL_READ;
    long deadline = System.nanoTime() + BURST_GAP_NANOS;
    while (buf.length - n >= FULL_READ) {
      int ready = available();
      if (ready > 0) {
        int more = stdout.read(buf, n, Math.min(ready, buf.length - n));
        if (more <= 0) {
          break;
        }
        streaming = more >= FULL_READ;
        n += more;
        deadline = System.nanoTime() + BURST_GAP_NANOS;
      } else if (streaming && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      } else {
        break;
      }
    }
    return n;
  }

  public void write(byte[] bytes) throws IOException {
    stdin.write(bytes);
    stdin.flush();
  }

  public void resize(int cols, int rows) {
    process.setWinSize(new WinSize(cols, rows));
  }

  public boolean alive() {
    return process.isAlive();
  }

  /** Waits for the process; the exit status (128 + n when killed by signal n, as shells report it). */
  public int waitFor() throws InterruptedException {
    return process.waitFor();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
    }
  }

  /** FIONREAD through JNA (a dependency of pty4j); fenced here so nothing else touches native code. */
  private static final class Readiness {
    interface LibC extends Library {
      int ioctl(int fd, NativeLong request, IntByReference count);
    }

    private static final NativeLong FIONREAD = new NativeLong(Platform.isMac() ? 0x4004667FL : 0x541BL);
    private static final LibC LIBC = load();
    /** Without it output is still read, just in kernel-sized chunks. */
    static final boolean SUPPORTED = LIBC != null;

    private static LibC load() {
      if (!Platform.isLinux() && !Platform.isMac()) {
        return null;
      }
      try {
        return Native.load(Platform.C_LIBRARY_NAME, LibC.class);
      } catch (UnsatisfiedLinkError e) {
        return null;
      }
    }

    /** Bytes ready on {@code fd}, or -1 when the kernel refuses to say. */
    static int bytesReady(int fd) {
      IntByReference count = new IntByReference();
      return LIBC.ioctl(fd, FIONREAD, count) < 0 ? -1 : count.getValue();
    }
  }
}
