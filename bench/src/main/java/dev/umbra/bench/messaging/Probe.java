package dev.umbra.bench.messaging;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * What the benchmark sends, as the plaintext of a message and as the body of a floor publish: the
 * phase, a sequence number and the sender's {@link System#nanoTime} when it started sending, padded
 * to a fixed size. Both ends run on one machine, where {@code nanoTime} reads the same monotonic
 * clock (CLOCK_MONOTONIC) in every process, so the receiver's {@code nanoTime} minus the stamp is
 * the one-way latency.
 */
record Probe(String phase, int seq, long sentNanos) {
  /** Plaintext size: a short chat message. */
  static final int SIZE = 200;

  byte[] encode() {
    byte[] head = (phase + "|" + seq + "|" + sentNanos + "|").getBytes(StandardCharsets.UTF_8);
    byte[] out = Arrays.copyOf(head, Math.max(SIZE, head.length));
    Arrays.fill(out, head.length, out.length, (byte) 'x');
    return out;
  }

  static Probe parse(byte[] plain) {
    String[] f = new String(plain, StandardCharsets.UTF_8).split("\\|", 4);
    return new Probe(f[0], Integer.parseInt(f[1]), Long.parseLong(f[2]));
  }
}
