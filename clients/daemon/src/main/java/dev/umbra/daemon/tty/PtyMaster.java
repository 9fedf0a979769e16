package dev.umbra.daemon.tty;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.util.Arrays;

/**
 * The master side of a PTY read and written directly with {@code read}/{@code write}/{@code poll}
 * (JNA direct mapping) on a private, non-blocking, close-on-exec duplicate of pty4j's master fd.
 *
 * <p>Why not pty4j's streams: each of their reads allocates a buffer of the requested length,
 * marshals two JNA {@code Pollfd} structures for a {@code poll}, copies the whole requested length
 * into native memory and back through an interface-mapped {@code read}, then copies once more — for
 * every 4 KiB the kernel hands out. Here one reused native buffer takes reads of up to 64 KiB, a
 * burst is gathered in it without leaving native memory, and only the bytes read are copied to the
 * heap, once.
 *
 * <p>Ending: reads end at EOF/EIO (every holder of the slave closed it), when the shell process
 * exits (after what it left in the PTY is drained, even if a background job still holds the slave),
 * or at {@link #close}. An eventfd wakes a reader or writer waiting in {@code poll}. The fd and the
 * eventfd are closed only once no call uses them, so a late read can never reach a descriptor
 * number the process has reused for something else.
 *
 * <p>Linux only (constants and {@code eventfd}/{@code ppoll}); elsewhere {@link #SUPPORTED} is
 * false and {@link PtyShell} falls back to pty4j's streams.
 */
final class PtyMaster {
  /**
   * A read at least this long means the program writes faster than we read: more is about to come.
   */
  static final int FULL_READ = 4000;

  /**
   * How long a burst waits (in the kernel, not spinning: the writer needs the CPU) for its next
   * piece.
   */
  static final long BURST_GAP_NANOS = 50_000;

  /**
   * After the process exited: output still arriving within this keeps being read (its last words).
   */
  static final int EXIT_QUIET_MS = 100;

  /** ... but for at most this long, in case a background job keeps writing to the terminal. */
  static final long EXIT_DRAIN_NANOS = 2_000_000_000L;

  static final boolean SUPPORTED = Native.LONG_SIZE == 8 && Platform.isLinux() && LibC.load();

  private static final int EINTR = 4;
  private static final int EAGAIN = 11;
  private static final short POLLIN = 0x1;
  private static final short POLLOUT = 0x4;
  private static final int F_GETFL = 3;
  private static final int F_SETFL = 4;
  private static final int F_DUPFD_CLOEXEC = 1030;
  private static final int O_NONBLOCK = 0x800;
  private static final int EFD_CLOEXEC = 0x80000;
  private static final long FIONREAD = 0x541BL;

  private final int fd;
  private final int wake;

  /** Native memory owned by the reading thread (one reader at a time). */
  private Memory readBuf;

  private final Memory readPoll = new Memory(16);
  private final Memory timespec = new Memory(16);
  private final Memory writePoll = new Memory(16);
  private int users;
  private boolean released;
  private volatile boolean closed;
  private volatile long exitedAt;

  private PtyMaster(int fd, int wake) {
    this.fd = fd;
    this.wake = wake;
  }

  /** Duplicates {@code ptyMasterFd} (the caller keeps its own); fails if the kernel refuses. */
  static PtyMaster open(int ptyMasterFd) throws IOException {
    int fd = LibC.fcntl(ptyMasterFd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
      throw new IOException("dup of the PTY master failed, errno " + Native.getLastError());
    }
    int flags = LibC.fcntl(fd, F_GETFL, 0);
    int wake = LibC.eventfd(0, EFD_CLOEXEC | O_NONBLOCK);
    if (flags < 0 || LibC.fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || wake < 0) {
      int errno = Native.getLastError();
      LibC.close(fd);
      if (wake >= 0) {
        LibC.close(wake);
      }
      throw new IOException("PTY master setup failed, errno " + errno);
    }
    return new PtyMaster(fd, wake);
  }

  /**
   * The process ended: drain what it left, then report EOF even if the slave is still held open.
   */
  void processExited() {
    exitedAt = System.nanoTime();
    signal();
  }

  /**
   * Blocks for output and returns what one read gives (at most {@code len} bytes); -1 at the end.
   */
  int read(byte[] buf, int off, int len) {
    return read(buf, off, len, false);
  }

  /**
   * Blocks for output, then gathers the rest of the burst into {@code buf}: what is already waiting
   * and, while the program keeps filling the PTY (each read a full kernel buffer), what arrives
   * within {@link #BURST_GAP_NANOS}. A lone echo returns at once. -1 at the end.
   */
  int readBurst(byte[] buf) {
    return read(buf, 0, buf.length, true);
  }

  /**
   * {@link #readBurst(byte[])} into a new array of exactly the bytes read, copied once from native
   * memory (no staging buffer to copy again); null at the end.
   */
  byte[] readBurst(int max) {
    if (!enter()) {
      return null;
    }
    try {
      int n = fill(max, true);
      return n < 0 ? null : readBuf.getByteArray(0, n);
    } finally {
      leave();
    }
  }

  private int read(byte[] buf, int off, int len, boolean burst) {
    if (len == 0) {
      return 0;
    }
    if (!enter()) {
      return -1;
    }
    try {
      int n = fill(len, burst);
      if (n > 0) {
        readBuf.read(0, buf, off, n);
      }
      return n;
    } finally {
      leave();
    }
  }

  /**
   * Reads into the native buffer from its start: the number of bytes (at least 1), or -1 at the
   * end.
   */
  private int fill(int len, boolean burst) {
    if (readBuf == null || readBuf.size() < len) {
      readBuf = new Memory(Math.max(len, 4096));
    }
    int n = readSome(0, len);
    if (n <= 0) {
      return -1;
    }
    if (burst) {
      boolean streaming = n >= FULL_READ;
      while (len - n > 0) {
        long more = LibC.read(fd, readBuf.share(n), len - n);
        if (more > 0) {
          n += (int) more;
          streaming = more >= FULL_READ;
        } else if (more < 0
            && Native.getLastError() == EAGAIN
            && streaming
            && !closed
            && pollIn(readPoll, false, BURST_GAP_NANOS)) {
          streaming = false; // one wait per piece: only a full next read earns another
        } else {
          break; // EOF or error: reported by the next call
        }
      }
    }
    return n;
  }

  /**
   * One read into the native buffer at {@code at}, waiting as long as needed; &lt;= 0 at the end.
   */
  private int readSome(long at, int len) {
    while (true) {
      long n = LibC.read(fd, readBuf.share(at), len);
      if (n >= 0) {
        return (int) n; // 0: EOF
      }
      int errno = Native.getLastError();
      if (errno == EINTR) {
        continue;
      }
      if (errno != EAGAIN || closed) {
        return -1; // EIO: the slave side is closed, which is the PTY's end of file
      }
      long exited = exitedAt;
      if (exited != 0) {
        if (System.nanoTime() - exited > EXIT_DRAIN_NANOS
            || !pollIn(readPoll, true, EXIT_QUIET_MS * 1_000_000L)) {
          return -1;
        }
      } else {
        pollIn(readPoll, false, -1);
      }
    }
  }

  /**
   * Waits until the master is readable, the eventfd signals (unless {@code masterOnly}) or {@code
   * timeoutNanos} pass (-1: no limit). True when the master is readable.
   */
  private boolean pollIn(Memory fds, boolean masterOnly, long timeoutNanos) {
    pollSet(fds, POLLIN);
    int r;
    if (timeoutNanos < 0) {
      r = LibC.poll(fds, masterOnly ? 1 : 2, -1);
    } else {
      // ppoll: poll's millisecond timeout is far too coarse for a 50 µs gap
      timespec.setLong(0, timeoutNanos / 1_000_000_000L);
      timespec.setLong(8, timeoutNanos % 1_000_000_000L);
      r = LibC.ppoll(fds, masterOnly ? 1 : 2, timespec, Pointer.NULL);
    }
    return r > 0 && fds.getShort(6) != 0;
  }

  /** Two {@code struct pollfd}: the master for {@code events}, then the eventfd for input. */
  private void pollSet(Memory fds, short events) {
    fds.setInt(0, fd);
    fds.setShort(4, events);
    fds.setShort(6, (short) 0);
    fds.setInt(8, wake);
    fds.setShort(12, POLLIN);
    fds.setShort(14, (short) 0);
  }

  /** Bytes readable now (FIONREAD), -1 when unknown. */
  int available() {
    if (!enter()) {
      return -1;
    }
    try {
      int[] count = new int[1];
      return LibC.ioctl(fd, FIONREAD, count) < 0 ? -1 : count[0];
    } finally {
      leave();
    }
  }

  /**
   * Writes what the PTY takes now without waiting; the number of bytes written (0 when its input
   * queue is full). Safe on an event loop.
   */
  int writeNow(byte[] bytes, int off, int len) throws IOException {
    if (!enter()) {
      throw new IOException("terminal closed");
    }
    try {
      return writeOnce(bytes, off, len);
    } finally {
      leave();
    }
  }

  /**
   * Writes all of it, waiting while the PTY's input queue is full; fails once the terminal is
   * closed.
   */
  void write(byte[] bytes, int off, int len) throws IOException {
    if (!enter()) {
      throw new IOException("terminal closed");
    }
    try {
      while (len > 0) {
        int n = writeOnce(bytes, off, len);
        off += n;
        len -= n;
        if (len > 0) {
          if (closed) {
            throw new IOException("terminal closed");
          }
          pollSet(writePoll, POLLOUT);
          // after the exit the eventfd stays signalled: wait on the master alone, a second at a
          // time
          LibC.poll(writePoll, exitedAt != 0 ? 1 : 2, 1000);
        }
      }
    } finally {
      leave();
    }
  }

  private int writeOnce(byte[] bytes, int off, int len) throws IOException {
    byte[] part = off == 0 ? bytes : Arrays.copyOfRange(bytes, off, off + len);
    while (true) {
      long n = LibC.write(fd, part, len);
      if (n >= 0) {
        return (int) n;
      }
      int errno = Native.getLastError();
      if (errno == EAGAIN) {
        return 0;
      }
      if (errno != EINTR) {
        throw new IOException("write to the terminal failed, errno " + errno);
      }
    }
  }

  /** Ends reads and writes (now or as soon as the calls in progress return) and closes the fds. */
  void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    signal();
    synchronized (this) {
      if (users == 0) {
        release();
      }
    }
  }

  /**
   * True once the duplicate and the eventfd are closed (after {@link #close} and the last call).
   */
  synchronized boolean released() {
    return released;
  }

  private synchronized boolean enter() {
    if (closed) {
      return false;
    }
    users++;
    return true;
  }

  private synchronized void leave() {
    users--;
    if (closed && users == 0) {
      release();
    }
  }

  private void signal() {
    synchronized (this) {
      if (released) {
        return;
      }
      LibC.write(wake, new byte[] {1, 0, 0, 0, 0, 0, 0, 0}, 8); // eventfd: add 1 to its counter
    }
  }

  private void release() {
    if (!released) {
      released = true;
      LibC.close(fd);
      LibC.close(wake);
    }
  }

  /**
   * libc through JNA direct mapping (a dependency of pty4j): a plain native call, no marshalling.
   */
  private static final class LibC {
    static native long read(int fd, Pointer buf, long count);

    static native long write(int fd, byte[] buf, long count);

    static native int poll(Pointer fds, long nfds, int timeoutMs);

    static native int ppoll(Pointer fds, long nfds, Pointer timeout, Pointer sigmask);

    static native int fcntl(int fd, int cmd, int arg);

    static native int ioctl(int fd, long request, int[] arg);

    static native int eventfd(int initval, int flags);

    static native int close(int fd);

    static boolean load() {
      try {
        Native.register(LibC.class, Platform.C_LIBRARY_NAME);
        return true;
      } catch (LinkageError | RuntimeException e) {
        return false;
      }
    }
  }
}
