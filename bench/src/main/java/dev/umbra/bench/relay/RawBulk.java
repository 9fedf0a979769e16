package dev.umbra.bench.relay;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import java.net.URI;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The relay benchmark's bulk part (docs/benchmarks.md): 32 KiB frames one way with a 256-frame
 * window into a sink that acks every 64th, through one relay instance, across two (mesh and Redis),
 * nginx and direct.
 */
final class RawBulk {
  private static final int BULK_FRAME = 32 * 1024;
  private static final int WINDOW = 256;

  /** Opens a bench connection: to a relay (with an OPEN of {@code channel}) or to a plain URL. */
  interface Connector {
    WebSocket connect(boolean relay, URI url, String target, long channel) throws Exception;
  }

  private final Vertx vertx;
  private final UUID workspace;
  private final int rounds;
  private final Connector connector;

  RawBulk(Vertx vertx, UUID workspace, int rounds, Connector connector) {
    this.vertx = vertx;
    this.workspace = workspace;
    this.rounds = rounds;
    this.connector = connector;
  }

  private static <T> T await(io.vertx.core.Future<T> f) throws Exception {
    return RelayBench.await(f);
  }

  /**
   * Bulk of raw frames one way: one instance, across two by mesh and by Redis, nginx, direct.
   * Uncounted passes through relays 1, 2 and 3 first (JIT warm-up, also after the latency part),
   * then {@code rounds} rounds with the paths alternating; medians, and the CPU per MB of the
   * processes under test and of this JVM (the sending client and the receiving end), which load on
   * a shared machine moves much less than MB/s.
   */
  void run(
      List<RelayProcess> relays,
      String target,
      URI viaNginx,
      URI direct,
      long bulkBytes,
      List<Long> nginxPids)
      throws Exception {
    System.out.printf(
        "%n%-34s %10s %16s %16s%n",
        "bulk, 32 KiB frames, one way", "MB/s", "cpu ms/MB tested", "cpu ms/MB bench");
    // Uncounted passes through every relay path: on a 2-vCPU VM one pass left round 1 at a third
    // of round 3 (163 → 461 → 667 MB/s, 2026-12-06), so each path gets umbra.bench.bulkWarmups.
    int warmups = Math.max(1, Integer.getInteger("umbra.bench.bulkWarmups", 2));
    for (int w = 0; w < warmups; w++) {
      for (RelayProcess relay : relays) {
        bulk(true, relay.ws(), target, bulkBytes);
      }
    }
    List<Long> r1 = List.of(relays.get(0).process.pid());
    List<Long> r12 = List.of(relays.get(0).process.pid(), relays.get(1).process.pid());
    List<Long> r13 = List.of(relays.get(0).process.pid(), relays.get(2).process.pid());
    String[] names = {
      "relay, one instance", RelayBench.TWO_MESH, RelayBench.TWO_REDIS, "nginx", "direct"
    };
    double[][] mbs = new double[names.length][rounds];
    double[][] cpu = new double[names.length][rounds];
    double[][] benchCpu = new double[names.length][rounds];
    for (int round = 0; round < rounds; round++) {
      int i = round;
      BulkPoint[] points = {
        new BulkPoint(r1, () -> bulk(true, relays.get(0).ws(), target, bulkBytes)),
        new BulkPoint(r12, () -> bulk(true, relays.get(1).ws(), target, bulkBytes)),
        new BulkPoint(r13, () -> bulk(true, relays.get(2).ws(), target, bulkBytes)),
        new BulkPoint(nginxPids, () -> bulk(false, viaNginx.resolve("/sink"), null, bulkBytes)),
        new BulkPoint(List.of(), () -> bulk(false, direct.resolve("/sink"), null, bulkBytes))
      };
      for (int p = 0; p < points.length; p++) {
        List<Long> self = List.of(ProcessHandle.current().pid());
        long tested0 = ProcStats.cpuNanos(points[p].pids());
        long bench0 = ProcStats.cpuNanos(self);
        mbs[p][i] = points[p].run().call();
        double mb = bulkBytes / 1e6;
        cpu[p][i] = (ProcStats.cpuNanos(points[p].pids()) - tested0) / 1e6 / mb;
        benchCpu[p][i] = (ProcStats.cpuNanos(self) - bench0) / 1e6 / mb;
      }
      System.out.printf(
          "  round %d MB/s: one %.0f, two mesh %.0f, two redis %.0f, nginx %.0f, direct %.0f%n",
          round + 1, mbs[0][i], mbs[1][i], mbs[2][i], mbs[3][i], mbs[4][i]);
    }
    double[] m = new double[names.length];
    for (int p = 0; p < names.length; p++) {
      m[p] = RelayBench.median(mbs[p]);
      System.out.printf(
          "%-34s %10.0f %16.2f %16.2f%n",
          names[p], m[p], RelayBench.median(cpu[p]), RelayBench.median(benchCpu[p]));
    }
    System.out.printf(
        "ratio relay(one)/nginx = %.2f, relay(two mesh)/nginx = %.2f, relay(two redis)/nginx = %.2f, relay(one)/direct = %.2f (medians of %d rounds)%n",
        m[0] / m[3], m[1] / m[3], m[2] / m[3], m[0] / m[4], rounds);
  }

  /** One bulk path: the processes it goes through, and the run giving its MB/s. */
  private record BulkPoint(List<Long> pids, java.util.concurrent.Callable<Double> run) {}

  private double bulk(boolean relay, URI url, String target, long total) throws Exception {
    long channel = System.nanoTime() | 1;
    WebSocket ws = connector.connect(relay, url, target, channel);
    long frames = total / BULK_FRAME;
    AtomicLong acked = new AtomicLong();
    long[] sent = {0};
    CompletableFuture<Long> done = new CompletableFuture<>();
    byte[] block = new byte[BULK_FRAME];
    new java.util.Random(1).nextBytes(block);
    Buffer rawFrame =
        relay
            ? Buffer.buffer(
                RelayFrame.newBuilder()
                    .setType(FrameType.FRAME_TYPE_DATA)
                    .setWorkspaceId(workspace.toString())
                    .setTargetId(target)
                    .setChannelId(channel)
                    .setReason("sink")
                    .setPayload(ByteString.copyFrom(block))
                    .build()
                    .toByteArray())
            : Buffer.buffer(block);
    long t0 = System.nanoTime();
    Runnable[] pump = new Runnable[1];
    pump[0] =
        () -> {
          while (sent[0] < frames && sent[0] - acked.get() < WINDOW && !ws.writeQueueFull()) {
            ws.writeBinaryMessage(rawFrame);
            sent[0]++;
          }
          if (ws.writeQueueFull()) {
            ws.drainHandler(v -> pump[0].run());
          }
        };
    ws.binaryMessageHandler(
        buf -> {
          long a;
          if (relay) {
            try {
              a = RelayFrame.parseFrom(buf.getBytes()).getAck();
            } catch (InvalidProtocolBufferException e) {
              return;
            }
          } else {
            a = buf.getLong(0);
          }
          acked.set(a);
          if (a >= frames - frames % 64) {
            done.complete(System.nanoTime() - t0);
          } else {
            pump[0].run();
          }
        });
    vertx.runOnContext(v -> pump[0].run());
    long nanos = done.get(300, TimeUnit.SECONDS);
    await(ws.close());
    return (frames - frames % 64) * (double) BULK_FRAME / 1e6 / (nanos / 1e9);
  }
}
