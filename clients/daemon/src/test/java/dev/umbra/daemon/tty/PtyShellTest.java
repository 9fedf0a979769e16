package dev.umbra.daemon.tty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real PTY: output bursts are gathered into large reads, short output is not held back. */
class PtyShellTest {
  private static Map<String, String> env() {
    Map<String, String> env = new HashMap<>(TtyServerConfig.baseEnv(System.getenv()));
    env.put("TERM", "xterm");
    return env;
  }

  @Test
  void gathersBulkOutputIntoChunksLargerThanOneKernelBuffer(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("text");
    String line = "x".repeat(79) + "\n";
    Files.writeString(file, line.repeat(100_000), StandardCharsets.US_ASCII); // 8 MB
    long total = 0;
    int reads = 0;
    int largest = 0;
    try (PtyShell sh = PtyShell.start(List.of("cat", file.toString()), env(), dir.toString(), 80, 24)) {
      byte[] buf = new byte[TtyFrames.MAX_PLAINTEXT];
      try {
        int n;
        while ((n = sh.readBurst(buf)) >= 0) {
          total += n;
          reads++;
          largest = Math.max(largest, n);
        }
      } catch (IOException eio) {
        // EIO at the end of a Linux PTY
      }
      assertEquals(0, sh.waitFor());
    }
    assertEquals(100_000L * 81, total, "every byte, \\n turned into \\r\\n by the PTY");
    // without gathering each read is at most one 4 KiB line-discipline buffer: ~2000 reads
    assertTrue(largest > 4096, "largest read " + largest + " bytes");
    assertTrue(reads < 1000, reads + " reads for 8 MB");
  }

  @Test
  void returnsShortOutputWithoutWaitingForMore(@TempDir Path dir) throws Exception {
    try (PtyShell sh = PtyShell.start(List.of("/bin/sh", "-c", "stty raw -echo; printf R; exec cat"), env(), dir.toString(), 80, 24)) {
      byte[] buf = new byte[TtyFrames.MAX_PLAINTEXT];
      assertEquals("R", new String(buf, 0, sh.readBurst(buf), StandardCharsets.US_ASCII));
      long worst = 0;
      for (int i = 0; i < 50; i++) {
        long t0 = System.nanoTime();
        sh.write(new byte[] {'k'});
        int n = sh.readBurst(buf);
        worst = Math.max(worst, System.nanoTime() - t0);
        assertEquals(1, n, "one keystroke echoed as one byte");
        assertEquals('k', buf[0]);
      }
      // a lone echo is handed over as soon as it is read: no spin for a burst that is not there
      assertTrue(worst < 1_000_000_000L, "slowest echo took " + worst / 1000 + " us");
      sh.close();
    }
  }

  @Test
  void reportsBytesWaitingOnTheTerminal(@TempDir Path dir) throws Exception {
    try (PtyShell sh = PtyShell.start(List.of("/bin/sh", "-c", "printf abc; sleep 5"), env(), dir.toString(), 80, 24)) {
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (sh.available() < 3 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertEquals(3, sh.available(), "FIONREAD on the master sees the 3 bytes before they are read");
      byte[] buf = new byte[16];
      assertEquals(3, sh.read(buf));
      assertEquals(0, sh.available());
    }
  }
}
