package dev.umbra.bench.relay;

import dev.umbra.bench.BenchTokens;
import dev.umbra.cli.relay.PortForward;
import dev.umbra.cli.relay.RelayClient;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.daemon.channel.DaemonChannels;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The relay benchmark's Noise part (docs/benchmarks.md): bulk through {@code umbra forward} with
 * the real client and daemon (Noise IK + AES-GCM at both ends) into a TCP sink, through one relay
 * instance and across two.
 */
final class NoiseBulk {
  private final Vertx vertx;
  private final UUID workspace;
  private final BenchTokens tokens;
  private final int rounds;

  NoiseBulk(Vertx vertx, UUID workspace, BenchTokens tokens, int rounds) {
    this.vertx = vertx;
    this.workspace = workspace;
    this.tokens = tokens;
    this.rounds = rounds;
  }

  private static <T> T await(Future<T> f) throws Exception {
    return RelayBench.await(f);
  }

  /** Bulk through a TCP forward (Noise end to end) over one relay instance and across two. */
  void run(RelayProcess r1, RelayProcess r2, Path tmp, long bulkBytes) throws Exception {
    System.out.printf("%n%-34s %10s %10s%n", "bulk through a TCP forward, Noise", "MB/s", "Gbit/s");
    // HotSpot swaps in its AES-GCM intrinsics only once the calling code is C2-compiled
    // (thousands of calls); with 32 KiB messages the first few hundred MB run without them. One
    // pass was not enough: the rounds after it still rose (2026-12-06: 140, 170, 195 MB/s), so
    // the warm-up passes alternate one instance and two, as the rounds do
    int warmups = Math.max(1, Integer.getInteger("umbra.bench.noiseWarmups", 4));
    for (int i = 0; i < warmups; i++) {
      RelayProcess daemonSide = i % 2 == 0 ? r1 : r2;
      System.out.printf(
          "%-34s %10.0f%n",
          "warm-up " + (i + 1) + (i % 2 == 0 ? ", one" : ", two") + " (not counted)",
          noiseBulk(r1, daemonSide, tmp, bulkBytes));
    }
    double[] one = new double[rounds];
    double[] two = new double[rounds];
    for (int i = 0; i < rounds; i++) {
      one[i] = noiseBulk(r1, r1, tmp, bulkBytes);
      two[i] = noiseBulk(r1, r2, tmp, bulkBytes);
      System.out.printf(
          "%-34s %10.0f %10.0f%n", "round " + (i + 1) + " one / two instances", one[i], two[i]);
    }
    double n1 = RelayBench.median(one);
    double n2 = RelayBench.median(two);
    System.out.println("median of the rounds:");
    System.out.printf(
        "%-34s %10.0f %10.2f%n%-34s %10.0f %10.2f%n",
        "one instance", n1, n1 * 8 / 1000, "across two instances", n2, n2 * 8 / 1000);
  }

  // ------------------------------------------------------------------ bulk with Noise through a
  // forward

  private double noiseBulk(RelayProcess clientSide, RelayProcess daemonSide, Path tmp, long total)
      throws Exception {
    String machine = UUID.randomUUID().toString();
    X25519KeyPair dkey = X25519KeyPair.generate();
    DaemonChannels d =
        new DaemonChannels(
            vertx,
            DaemonChannels.Config.of(
                workspace, machine, dkey, List.of(daemonSide.ws()), tmp.resolve("home")),
            () -> Future.succeededFuture(tokens.machine(workspace, machine, "relay")));
    await(d.start());
    RelayClient c =
        await(
            RelayClient.create(
                vertx,
                List.of(clientSide.ws()),
                workspace.toString(),
                () -> Future.succeededFuture(tokens.member(workspace, "bench", "relay")),
                X25519KeyPair.generate(),
                null,
                dev.umbra.client.http.ClientTls.system()));
    await(c.connect());
    AtomicLong received = new AtomicLong();
    CompletableFuture<Long> done = new CompletableFuture<>();
    NetServer sink =
        await(
            vertx
                .createNetServer()
                .connectHandler(
                    sock ->
                        sock.handler(
                            b -> {
                              if (received.addAndGet(b.length()) >= total) {
                                done.complete(System.nanoTime());
                              }
                            }))
                .listen(0, "127.0.0.1"));
    NetServer local =
        await(
            PortForward.listen(
                vertx,
                c,
                machine,
                dkey.publicKey(),
                "127.0.0.1",
                0,
                "127.0.0.1",
                sink.actualPort(),
                e -> {}));
    byte[] block = new byte[256 * 1024];
    new java.util.Random(2).nextBytes(block);
    long t0;
    try (Socket s = new Socket("127.0.0.1", local.actualPort())) {
      OutputStream os = s.getOutputStream();
      t0 = System.nanoTime();
      for (long sentBytes = 0; sentBytes < total; sentBytes += block.length) {
        os.write(block, 0, (int) Math.min(block.length, total - sentBytes));
      }
      os.flush();
      long t1 = done.get(300, TimeUnit.SECONDS);
      await(local.close());
      await(sink.close());
      await(c.close());
      await(d.stop());
      return total / 1e6 / ((t1 - t0) / 1e9);
    }
  }
}
