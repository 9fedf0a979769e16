package dev.umbra.bench.relay;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.umbra.bench.BenchTokens;
import dev.umbra.proto.relay.FrameType;
import dev.umbra.proto.relay.RelayFrame;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The scale run of issue 20 ({@code -Dumbra.bench.parts=scale}): three relay instances (mesh on),
 * {@code umbra.bench.scaleIdle} (5 000) idle daemons — each registered, so each holds a presence
 * key — and as many idle clients, spread round-robin over the three, plus {@code
 * umbra.bench.scaleChannels} (200) active channels whose client and daemon sit on different
 * instances, each echoing 1 KiB frames at {@code umbra.bench.scaleRate} (100) frames/s. Reports the
 * round-trip p50/p99 of the active channels while the idle connections are held, and each
 * instance's connection count and heap (live, and after a forced GC).
 */
final class RelayScale {
  private static final int FRAME = 1024;
  private static final int BATCH = 100;
  private static final long IDLE_WINDOW_MS = 3_000;

  private final Vertx vertx;
  private final WebSocketClient client;
  private final BenchTokens tokens;
  private final UUID workspace;

  RelayScale(Vertx vertx, WebSocketClient client, BenchTokens tokens, UUID workspace) {
    this.vertx = vertx;
    this.client = client;
    this.tokens = tokens;
    this.workspace = workspace;
  }

  void run(List<RelayProcess> relays, int seconds) throws Exception {
    int idle = Integer.getInteger("umbra.bench.scaleIdle", 5_000);
    int channels = Integer.getInteger("umbra.bench.scaleChannels", 200);
    int rate = Integer.getInteger("umbra.bench.scaleRate", 100);
    System.out.printf(
        "%nscale: %d relay instances, %d idle daemons + %d idle clients, %d active channels at %d"
            + " frames/s each across instances%n",
        relays.size(), idle, idle, channels, rate);
    List<WebSocket> open = openIdle(relays, idle);
    List<EchoDaemon> daemons = new ArrayList<>();
    List<WebSocket> clients = new ArrayList<>();
    List<Long> ids = new ArrayList<>();
    for (int k = 0; k < channels; k++) {
      String target = "active-" + k;
      daemons.add(
          EchoDaemon.connect(
              client,
              relays.get((k + 1) % relays.size()).ws(),
              workspace,
              target,
              tokens.machine(workspace, target, "relay")));
      WebSocket ws =
          RelayBench.await(
              connect(relays.get(k % relays.size()), tokens.member(workspace, "scale", "relay")));
      long channel = (System.nanoTime() << 1) | 1;
      ws.writeBinaryMessage(frame(FrameType.FRAME_TYPE_OPEN, target, channel, new byte[] {1}));
      clients.add(ws);
      ids.add(channel);
    }
    Thread.sleep(1000); // every channel's route is bound before timing starts
    // what the instances spend with every connection idle (pings, presence refresh, JIT still
    // compiling), so the per-round-trip figures can be given without it
    long[] idleBefore = cpu(relays);
    Thread.sleep(IDLE_WINDOW_MS);
    long[] idleAfter = cpu(relays);
    long[][] cpu = new long[2][];
    Stats s =
        measure(
            clients,
            ids,
            rate,
            seconds,
            () -> cpu(relays),
            cpu,
            relays.stream().map(r -> r.process.pid()).toList());
    System.out.printf(
        "active channels: %d round trips measured (%.0f/s), p50 %.0f us, p99 %.0f us (1 KiB, %s)%n",
        s.count(),
        s.count() / (double) seconds,
        s.p50Micros(),
        s.p99Micros(),
        rate == 0
            ? "closed loop: the next frame when the echo is back"
            : rate + "/s each, " + (long) channels * rate * seconds + " offered");
    printCpu(relays.size(), cpu[0], cpu[1], seconds, s.count(), idleBefore, idleAfter);
    report(relays);
    for (WebSocket ws : clients) {
      ws.close();
    }
    for (EchoDaemon d : daemons) {
      d.ws.close();
    }
    for (WebSocket ws : open) {
      ws.close();
    }
  }

  /**
   * CPU time (user + system, from the kernel: independent of how loaded the machine is) of each
   * relay and, last, of this JVM (the clients and echo daemons), in nanoseconds.
   */
  private static long[] cpu(List<RelayProcess> relays) {
    long[] t = new long[relays.size() + 1];
    for (int i = 0; i < relays.size(); i++) {
      t[i] = cpuNanos(relays.get(i).process.toHandle());
    }
    t[relays.size()] = cpuNanos(ProcessHandle.current());
    return t;
  }

  private static long cpuNanos(ProcessHandle p) {
    return p.info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(-1L);
  }

  /**
   * CPU-seconds per 100 000 round trips of each relay and of the bench's own JVM over the measured
   * window (round trips sent in it), and the cores each kept busy.
   */
  private static void printCpu(
      int n, long[] before, long[] after, double wall, long trips, long[] idle0, long[] idle1) {
    StringBuilder sb = new StringBuilder("cpu per 100k round trips:");
    double relays = 0;
    double relaysNet = 0;
    for (int i = 0; i <= n; i++) {
      double sec = (after[i] - before[i]) / 1e9;
      double idle = (idle1[i] - idle0[i]) / 1e9 / (IDLE_WINDOW_MS / 1000.0);
      if (i < n) {
        relays += sec;
        relaysNet += sec - idle * wall;
      }
      sb.append(
          String.format(
              " %s %.2f s (%.2f cores; %.2f cores when idle)",
              i < n ? "relay " + (i + 1) : "bench", sec * 100_000 / trips, sec / wall, idle));
    }
    sb.append(
        String.format(
            "; relays together %.2f s, %.2f s above their idle use",
            relays * 100_000 / trips, relaysNet * 100_000 / trips));
    System.out.println(sb);
  }

  /** {@code idle} registered daemons and as many member connections, round-robin. */
  private List<WebSocket> openIdle(List<RelayProcess> relays, int idle) throws Exception {
    List<WebSocket> open = new ArrayList<>();
    long t0 = System.nanoTime();
    String member = tokens.member(workspace, "scale-idle", "relay");
    for (int i = 0; i < idle; i += BATCH) {
      List<Future<WebSocket>> batch = new ArrayList<>();
      for (int j = i; j < Math.min(idle, i + BATCH); j++) {
        String target = "idle-" + j;
        RelayProcess r = relays.get(j % relays.size());
        batch.add(
            connect(r, tokens.machine(workspace, target, "relay"))
                .compose(ws -> register(ws, target)));
        batch.add(connect(relays.get((j + 1) % relays.size()), member));
      }
      for (Future<WebSocket> f : batch) {
        open.add(RelayBench.await(f));
      }
    }
    System.out.printf(
        "opened %d idle connections (daemons registered) in %d ms (%d upgrades refused for a"
            + " passing reason and retried)%n",
        open.size(), (System.nanoTime() - t0) / 1_000_000, retried.get());
    return open;
  }

  /** Upgrades refused for a passing reason and tried again (reported with the results). */
  private final java.util.concurrent.atomic.AtomicInteger retried =
      new java.util.concurrent.atomic.AtomicInteger();

  /** Each instance's connections, mesh links and heap (live, then after a forced GC). */
  private static void report(List<RelayProcess> relays) throws Exception {
    for (int i = 0; i < relays.size(); i++) {
      RelayProcess r = relays.get(i);
      double live = r.metric("jvm_memory_used_bytes{area=\"heap\"");
      r.gc();
      Thread.sleep(500);
      double afterGc = r.metric("jvm_memory_used_bytes{area=\"heap\"");
      System.out.printf(
          "instance %d: %.0f daemons, %.0f clients, %.0f mesh links; heap %.0f MiB live, %.0f MiB"
              + " after GC%n",
          i + 1,
          r.metric("umbra_relay_connections{role=\"daemon\""),
          r.metric("umbra_relay_connections{role=\"client\""),
          r.metric("umbra_relay_mesh_links"),
          live / 1048576,
          afterGc / 1048576);
    }
  }

  private Future<WebSocket> connect(RelayProcess r, String token) {
    return connect(r, token, 10);
  }

  /**
   * A refusal a loaded relay gives for a while — 403 while its revocation list is stale (it fails
   * closed when it could not read the revocation log for 15 s, e.g. with its event loop starved),
   * 429, 503 — is tried again after a pause, at most {@code tries} times; anything else fails.
   */
  private Future<WebSocket> connect(RelayProcess r, String token, int tries) {
    return client
        .connect(
            new WebSocketConnectOptions()
                .setAbsoluteURI(r.ws().toString())
                .putHeader("authorization", "Bearer " + token))
        .recover(
            e -> {
              if (tries > 1
                  && e instanceof io.vertx.core.http.UpgradeRejectedException u
                  && (u.getStatus() == 403 || u.getStatus() == 429 || u.getStatus() == 503)) {
                retried.incrementAndGet();
                io.vertx.core.Promise<Void> later = io.vertx.core.Promise.promise();
                vertx.setTimer(1000, t -> later.complete());
                return later.future().compose(v -> connect(r, token, tries - 1));
              }
              return Future.failedFuture(e);
            });
  }

  private Future<WebSocket> register(WebSocket ws, String target) {
    var registered = io.vertx.core.Promise.<WebSocket>promise();
    ws.binaryMessageHandler(
        b -> {
          try {
            FrameType t = RelayFrame.parseFrom(b.getBytes()).getType();
            if (t == FrameType.FRAME_TYPE_REGISTERED) {
              registered.tryComplete(ws);
            } else if (t == FrameType.FRAME_TYPE_ERROR) {
              // bus_unavailable: the relay could not reach Redis in time; register again
              retried.incrementAndGet();
              vertx.setTimer(
                  1000,
                  x ->
                      ws.writeBinaryMessage(frame(FrameType.FRAME_TYPE_REGISTER, target, 0, null)));
            }
          } catch (InvalidProtocolBufferException e) {
            registered.tryFail(e);
          }
        });
    ws.writeBinaryMessage(frame(FrameType.FRAME_TYPE_REGISTER, target, 0, null));
    return registered.future().timeout(300, TimeUnit.SECONDS);
  }

  private Buffer frame(FrameType type, String target, long channel, byte[] payload) {
    RelayFrame.Builder b =
        RelayFrame.newBuilder()
            .setType(type)
            .setWorkspaceId(workspace.toString())
            .setTargetId(target);
    if (channel != 0) {
      b.setChannelId(channel);
    }
    if (payload != null) {
      b.setPayload(ByteString.copyFrom(payload));
    }
    return Buffer.buffer(b.build().toByteArray());
  }

  /** What a client sends when an echo comes back (the closed loop, {@code scaleRate=0}). */
  private final java.util.Map<WebSocket, Runnable> onEcho =
      new java.util.concurrent.ConcurrentHashMap<>();

  private Buffer timed(String target, long channel) {
    Buffer payload = Buffer.buffer(FRAME).appendLong(System.nanoTime()).appendBytes(PAD);
    return frame(FrameType.FRAME_TYPE_DATA, target, channel, payload.getBytes());
  }

  private static final byte[] PAD = new byte[FRAME - 8];

  /** Every channel sends {@code rate} frames/s, staggered. */
  private void openLoop(List<WebSocket> clients, List<Long> ids, int rate, long end) {
    long period = Math.max(1, 1000 / rate);
    for (int i = 0; i < clients.size(); i++) {
      WebSocket ws = clients.get(i);
      long channel = ids.get(i);
      String target = "active-" + i;
      // staggered start, so the channels' frames do not all leave in the same millisecond
      long delay = 1 + (i * period) / Math.max(1, clients.size());
      vertx.setTimer(
          delay,
          x ->
              vertx.setPeriodic(
                  period,
                  t -> {
                    if (System.nanoTime() > end) {
                      vertx.cancelTimer(t);
                      return;
                    }
                    ws.writeBinaryMessage(timed(target, channel));
                  }));
    }
  }

  /**
   * {@code scaleRate=0}: every channel sends its next frame when the last one's echo is back, so as
   * many round trips are made as the machine allows (one frame in flight per channel): the CPU per
   * round trip is then measured on many round trips however loaded the machine is.
   */
  private void closedLoop(List<WebSocket> clients, List<Long> ids, long end) {
    for (int i = 0; i < clients.size(); i++) {
      WebSocket ws = clients.get(i);
      long channel = ids.get(i);
      String target = "active-" + i;
      onEcho.put(
          ws,
          () -> {
            if (System.nanoTime() < end) {
              ws.writeBinaryMessage(timed(target, channel));
            }
          });
      vertx.runOnContext(v -> ws.writeBinaryMessage(timed(target, channel)));
    }
  }

  /** Every channel sends {@code rate} frames/s (or closed-loop); p50/p99 of all round trips. */
  private Stats measure(
      List<WebSocket> clients,
      List<Long> ids,
      int rate,
      int seconds,
      java.util.function.Supplier<long[]> cpu,
      long[][] cpuOut,
      List<Long> pids)
      throws Exception {
    long[] samples = new long[clients.size() * Math.max(rate, 500) * (seconds + 2)];
    int[] n = {0};
    long warmEnd = System.nanoTime() + 1_000_000_000L;
    long end = warmEnd + seconds * 1_000_000_000L;
    for (WebSocket ws : clients) {
      ws.binaryMessageHandler(
          buf -> {
            long sent;
            try {
              ByteString p = RelayFrame.parseFrom(buf.getBytes()).getPayload();
              if (p.size() < 8) {
                return;
              }
              sent = p.substring(0, 8).asReadOnlyByteBuffer().getLong();
            } catch (InvalidProtocolBufferException e) {
              return;
            }
            synchronized (samples) {
              if (sent >= warmEnd && sent < end && n[0] < samples.length) {
                samples[n[0]++] = System.nanoTime() - sent;
              }
            }
            Runnable next = onEcho.get(ws);
            if (next != null) {
              next.run();
            }
          });
    }
    if (rate == 0) {
      closedLoop(clients, ids, end);
    } else {
      openLoop(clients, ids, rate, end);
    }
    // umbra.bench.attach (e.g. perf stat of the relays' syscalls) for the measured window
    List<Process> tools = ProcStats.attach("scale-relay", pids);
    Thread.sleep(Math.max(0, (warmEnd - System.nanoTime()) / 1_000_000));
    cpuOut[0] = cpu.get();
    Thread.sleep(Math.max(0, (end - System.nanoTime()) / 1_000_000));
    cpuOut[1] = cpu.get();
    ProcStats.detach(tools);
    CompletableFuture<Void> done = new CompletableFuture<>();
    vertx.setTimer(
        Math.max(1, (end - System.nanoTime()) / 1_000_000 + 1000), x -> done.complete(null));
    done.get(seconds + 60L, TimeUnit.SECONDS);
    synchronized (samples) {
      return Stats.of(samples, n[0]);
    }
  }
}
