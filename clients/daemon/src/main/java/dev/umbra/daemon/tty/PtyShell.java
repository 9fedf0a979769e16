package dev.umbra.daemon.tty;

import com.pty4j.PtyProcess;
import com.pty4j.PtyProcessBuilder;
import com.pty4j.WinSize;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;

/** A process in a real pseudo-terminal (pty4j): bytes in and out, window size, exit status. */
public final class PtyShell implements AutoCloseable {
  private final PtyProcess process;
  private final OutputStream stdin;
  private final InputStream stdout;

  private PtyShell(PtyProcess process) {
    this.process = process;
    this.stdin = process.getOutputStream();
    this.stdout = process.getInputStream();
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

  /** Bytes readable without blocking (0 when unknown). */
  public int available() {
    try {
      return stdout.available();
    } catch (IOException e) {
      return 0;
    }
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
}
