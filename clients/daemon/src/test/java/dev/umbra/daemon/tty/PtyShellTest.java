package dev.umbra.daemon.tty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.umbra.client.tty.TtyFrames;
import dev.umbra.kit.testing.Eventually;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real PTY: output bursts are gathered into large reads, short output is not held back, every
 * byte arrives unchanged and in order, and reads end at EOF, at the shell's exit and at close.
 */
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
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    try (PtyShell sh =
        PtyShell.start(List.of("cat", file.toString()), env(), dir.toString(), 80, 24)) {
      byte[] buf = new byte[TtyFrames.MAX_PLAINTEXT];
      try {
        int n;
        while ((n = sh.readBurst(buf)) >= 0) {
          total += n;
          reads++;
          largest = Math.max(largest, n);
          for (int i = 0; i < n; i++) {
            digest.update(buf[i]);
          }
        }
      } catch (IOException eio) {
        // EIO at the end of a PTY read through pty4j's streams (not Linux)
      }
      assertEquals(0, sh.waitFor());
    }
    assertEquals(100_000L * 81, total, "every byte, \\n turned into \\r\\n by the PTY");
    MessageDigest expected = MessageDigest.getInstance("SHA-256");
    expected.update(line.replace("\n", "\r\n").repeat(100_000).getBytes(StandardCharsets.US_ASCII));
    assertArrayEquals(expected.digest(), digest.digest(), "the same bytes in the same order");
    // without gathering each read is at most one 4 KiB line-discipline buffer: ~2000 reads
    assertTrue(largest > 4096, "largest read " + largest + " bytes");
    assertTrue(reads < 1000, reads + " reads for 8 MB");
  }

  @Test
  void returnsShortOutputWithoutWaitingForMore(@TempDir Path dir) throws Exception {
    try (PtyShell sh =
        PtyShell.start(
            List.of("/bin/sh", "-c", "stty raw -echo; printf R; exec cat"),
            env(),
            dir.toString(),
            80,
            24)) {
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
    try (PtyShell sh =
        PtyShell.start(
            List.of("/bin/sh", "-c", "printf abc; sleep 5"), env(), dir.toString(), 80, 24)) {
      Eventually.await(
          "3 bytes waiting on the terminal", Duration.ofSeconds(5), () -> sh.available() >= 3);
      assertEquals(
          3, sh.available(), "FIONREAD on the master sees the 3 bytes before they are read");
      byte[] buf = new byte[16];
      assertEquals(3, sh.read(buf));
      assertEquals(0, sh.available());
    }
  }

  /** Reads everything to the end with {@code readBurst} into a buffer of {@code size} bytes. */
  private static byte[] readAll(PtyShell sh, int size) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[size];
    int n;
    while ((n = sh.readBurst(buf)) >= 0) {
      out.write(buf, 0, n);
    }
    return out.toByteArray();
  }

  @Test
  void readsToTheEndThenReportsItAgainAndAgain(@TempDir Path dir) throws Exception {
    try (PtyShell sh =
        PtyShell.start(List.of("/bin/sh", "-c", "printf abc"), env(), dir.toString(), 80, 24)) {
      assertEquals("abc", new String(readAll(sh, 64), StandardCharsets.US_ASCII));
      assertEquals(-1, sh.read(new byte[8]), "the end stays the end");
      assertEquals(-1, sh.readBurst(new byte[8]));
      assertEquals(0, sh.waitFor());
    }
  }

  @Test
  void passesMultiByteCharactersThroughWhateverTheReadSize(@TempDir Path dir) throws Exception {
    // 3-byte UTF-8 characters, no newline: reads of 7 bytes and of 4 KiB pieces cut them anywhere
    Path file = dir.resolve("euros");
    byte[] text = "€ä€".repeat(20_000).getBytes(StandardCharsets.UTF_8);
    Files.write(file, text);
    for (int size : new int[] {7, TtyFrames.MAX_PLAINTEXT}) {
      try (PtyShell sh =
          PtyShell.start(List.of("cat", file.toString()), env(), dir.toString(), 80, 24)) {
        assertArrayEquals(
            text, readAll(sh, size), "read " + size + " bytes at a time: the bytes, unchanged");
      }
    }
  }

  @Test
  void endsWhenTheShellExitsEvenIfABackgroundJobHoldsTheTerminal(@TempDir Path dir)
      throws Exception {
    // the background sleep ignores the hangup at the shell's exit and keeps the terminal open, so
    // no EOF comes from the kernel for 5 s
    try (PtyShell sh =
        PtyShell.start(
            List.of(
                "/bin/sh", "-c", "(trap '' HUP; exec sleep 5) & sleep 0.2; printf last; exit 3"),
            env(),
            dir.toString(),
            80,
            24)) {
      long t0 = System.nanoTime();
      assertEquals(
          "last",
          new String(readAll(sh, 4096), StandardCharsets.US_ASCII),
          "what it printed before exiting");
      long tookMs = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(
          tookMs < 4_000,
          "the read ended at the exit, after " + tookMs + " ms, not with the background job");
      assertEquals(3, sh.waitFor());
    }
  }

  @Test
  void closeEndsAReadInProgressAndEverythingAfter(@TempDir Path dir) throws Exception {
    PtyShell sh =
        PtyShell.start(
            List.of("/bin/sh", "-c", "stty raw -echo; printf R; exec cat"),
            env(),
            dir.toString(),
            80,
            24);
    byte[] buf = new byte[16];
    assertEquals(1, sh.readBurst(buf));
    CompletableFuture<Integer> blocked = new CompletableFuture<>();
    Thread reader =
        Thread.ofPlatform()
            .start(
                () -> {
                  try {
                    blocked.complete(sh.readBurst(new byte[16]));
                  } catch (Throwable e) {
                    blocked.completeExceptionally(e);
                  }
                });
    assertFalse(sh.descriptorsReleased());
    sh.close();
    assertEquals(-1, blocked.get(10, TimeUnit.SECONDS), "the waiting read returns the end");
    reader.join();
    assertTrue(sh.descriptorsReleased(), "closed once the last read returned");
    assertEquals(-1, sh.read(buf), "no read reaches the closed descriptor");
    assertEquals(0, sh.available());
    assertThrows(IOException.class, () -> sh.write(new byte[] {'x'}));
    sh.close(); // twice is harmless
  }

  @Test
  void writeNowTakesAKeystrokeWithoutAThread(@TempDir Path dir) throws Exception {
    try (PtyShell sh =
        PtyShell.start(
            List.of("/bin/sh", "-c", "stty raw -echo; printf R; exec cat"),
            env(),
            dir.toString(),
            80,
            24)) {
      byte[] buf = new byte[16];
      assertEquals(1, sh.readBurst(buf));
      assertEquals(1, sh.writeNow(new byte[] {'a', 'b'}, 1, 1), "written at once, from the offset");
      assertEquals(1, sh.readBurst(buf));
      assertEquals('b', buf[0]);
    }
  }
}
