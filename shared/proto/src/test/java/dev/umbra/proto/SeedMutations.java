package dev.umbra.proto;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The fuzzing every `verify` does without Jazzer's start-up cost: deterministic mutants of a
 * harness's seed corpus (bit flips, byte changes, cuts, insertions, repeats, splices, boundary
 * varints) fed to the harness in the test's own JVM. Not coverage guided (that is the on-demand
 * Jazzer run, docs/security.md), but a few thousand inputs per harness per build.
 */
public final class SeedMutations {
  private static final byte[][] BOUNDARIES = {
    {
      (byte) 0xff,
      (byte) 0xff,
      (byte) 0xff,
      (byte) 0xff,
      (byte) 0xff,
      (byte) 0xff,
      (byte) 0xff,
      (byte) 0xff,
      (byte) 0xff,
      0x01
    },
    {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08},
    {0x00},
    {(byte) 0x7f},
    {'"'},
    {'\\', 'u', 'd', '8', '0', '0'},
    {'1', 'e', '9', '9', '9'},
    {'{'},
    {'['}
  };

  /** A harness's fuzz method. */
  public interface Target {
    void accept(byte[] input) throws Exception;
  }

  private SeedMutations() {}

  /**
   * Feeds every seed in {@code <harness>Inputs/<method>/} and {@code count} mutants of them to
   * {@code target}; returns how many inputs ran. A failing input is reported in base64, to be added
   * to the seeds once fixed.
   */
  public static int run(Class<?> harness, String method, int count, Target target) {
    List<byte[]> seeds = seeds(harness, method);
    if (seeds.isEmpty()) {
      throw new AssertionError("no seeds for " + harness.getSimpleName() + "." + method);
    }
    Random random = new Random(0x5eed_0000L ^ harness.getName().hashCode());
    int ran = 0;
    for (int i = 0; i < seeds.size() + count; i++) {
      byte[] input = i < seeds.size() ? seeds.get(i) : mutate(random, seeds);
      try {
        target.accept(input.clone());
      } catch (Throwable e) {
        throw new AssertionError(
            harness.getSimpleName()
                + "."
                + method
                + " failed on input (base64) "
                + Base64.getEncoder().encodeToString(input)
                + ": "
                + e,
            e);
      }
      ran++;
    }
    return ran;
  }

  static byte[] mutate(Random r, List<byte[]> seeds) {
    byte[] b = seeds.get(r.nextInt(seeds.size())).clone();
    int steps = 1 + r.nextInt(4);
    for (int s = 0; s < steps; s++) {
      int n = b.length;
      switch (r.nextInt(8)) {
        case 0 -> {
          if (n > 0) {
            b[r.nextInt(n)] ^= (byte) (1 << r.nextInt(8));
          }
        }
        case 1 -> {
          if (n > 0) {
            b[r.nextInt(n)] = (byte) r.nextInt(256);
          }
        }
        case 2 -> b = cut(b, r.nextInt(n + 1), r.nextInt(Math.min(n, 16) + 1));
        case 3 -> b = insert(b, r.nextInt(n + 1), randomBytes(r, 1 + r.nextInt(8)));
        case 4 -> {
          int from = r.nextInt(n + 1);
          int len = Math.min(n - from, 1 + r.nextInt(32));
          byte[] chunk = new byte[len];
          System.arraycopy(b, from, chunk, 0, len);
          b = insert(b, r.nextInt(n + 1), chunk);
        }
        case 5 -> b = cut(b, r.nextInt(n + 1), n);
        case 6 -> {
          byte[] other = seeds.get(r.nextInt(seeds.size()));
          int at = r.nextInt(n + 1);
          int from = r.nextInt(other.length + 1);
          byte[] spliced = new byte[at + other.length - from];
          System.arraycopy(b, 0, spliced, 0, at);
          System.arraycopy(other, from, spliced, at, other.length - from);
          b = spliced;
        }
        default -> b = insert(b, r.nextInt(n + 1), BOUNDARIES[r.nextInt(BOUNDARIES.length)]);
      }
    }
    return b;
  }

  private static byte[] randomBytes(Random r, int n) {
    byte[] b = new byte[n];
    r.nextBytes(b);
    return b;
  }

  private static byte[] cut(byte[] b, int at, int len) {
    int end = Math.min(b.length, at + len);
    byte[] out = new byte[b.length - (end - at)];
    System.arraycopy(b, 0, out, 0, at);
    System.arraycopy(b, end, out, at, b.length - end);
    return out;
  }

  private static byte[] insert(byte[] b, int at, byte[] what) {
    byte[] out = new byte[b.length + what.length];
    System.arraycopy(b, 0, out, 0, at);
    System.arraycopy(what, 0, out, at, what.length);
    System.arraycopy(b, at, out, at + what.length, b.length - at);
    return out;
  }

  private static List<byte[]> seeds(Class<?> harness, String method) {
    URL dir = harness.getResource(harness.getSimpleName() + "Inputs/" + method);
    List<byte[]> out = new ArrayList<>();
    if (dir == null) {
      return out;
    }
    try (Stream<Path> files = Files.list(Path.of(dir.toURI()))) {
      for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
        out.add(Files.readAllBytes(f));
      }
    } catch (IOException | URISyntaxException e) {
      throw new IllegalStateException("cannot read the seeds of " + harness.getSimpleName(), e);
    }
    return out;
  }
}
