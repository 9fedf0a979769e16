package dev.umbra.bench.messaging;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The owner's {@link System#nanoTime} stamps of each message of a phase, by sequence number: send
 * start (before sealing), sealed, its request written (a connection obtained, the POST on its way),
 * the request answered. Written per latency phase for the coordinator's breakdown ({@link
 * Breakdown}), beside the agent's arrival stamps of the same messages.
 */
final class Stamps {
  final long[] start;
  final long[] sealed;
  final long[] posted;
  final long[] answered;

  Stamps(int count) {
    start = new long[count];
    sealed = new long[count];
    posted = new long[count];
    answered = new long[count];
  }

  /** {@code to[i] - start[i]} for each message. */
  long[] since(long[] to) {
    long[] out = new long[start.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = to[i] - start[i];
    }
    return out;
  }

  /** One line a message: {@code seq start sealed posted answered} (0: never reached). */
  void write(Path file) throws IOException {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < start.length; i++) {
      b.append(i)
          .append(' ')
          .append(start[i])
          .append(' ')
          .append(sealed[i])
          .append(' ')
          .append(posted[i])
          .append(' ')
          .append(answered[i])
          .append('\n');
    }
    Files.writeString(file, b, StandardCharsets.UTF_8);
  }
}
