package dev.umbra.bench.messaging;

import dev.umbra.bench.BenchRuns;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.messaging.Envelope;
import dev.umbra.client.messaging.LiveReceiver;
import dev.umbra.client.messaging.MessagingClient;
import dev.umbra.client.messaging.MessagingStore;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.messaging.IdentityKeyPair;
import dev.umbra.crypto.messaging.RatchetOptions;
import dev.umbra.crypto.messaging.RatchetSession;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The receiving end of the messaging benchmark, in its own process: the agent, its live socket on
 * control-plane instance B through the real {@link LiveReceiver} (pending fetch on {@code ready}).
 * The first message (X3DH initial) is opened by the real {@link MessagingClient}; later ones are
 * decrypted with the Double Ratchet session it stored (held in memory from then on), and
 * acknowledged as {@code umbra agent run} does: queued to the {@link LiveReceiver}, which coalesces
 * them into {@code ack} frames on the live socket ({@link LiveReceiver#ACK_LINGER_MS}). It also
 * subscribes to the Redis floor's channel.
 *
 * <p>Commands on stdin: {@code expect <phase> <count>}, answered {@code expecting <phase>} (the
 * coordinator starts the phase only then); when that many probes of the phase have arrived
 * (decrypted, for messages) it prints {@code done <phase> ...} with the latencies.
 */
public final class AgentEnd {
  private static final long SESSION_REFRESH_NANOS = 5L * 60 * 1_000_000_000L;
  private static final RatchetOptions OPTIONS = RatchetOptions.defaults(Clock.systemUTC());

  private final Path dir;
  private final String cpUrl;
  private final UUID ws;
  private final UUID agent;
  private final UUID device;
  private final Ed25519KeyPair ed;
  private final JsonHttp http = new JsonHttp();
  private final MessagingClient messaging;
  private final Set<String> seen = new HashSet<>();
  private LiveReceiver live;
  private String token;
  private long tokenAt;
  private long lastSessionMs;
  private RatchetSession session;
  private volatile boolean connected;

  // the phase being measured (one at a time)
  private String phase = "";
  private long[] latencies = new long[0];
  private long[] arrivals = new long[0]; // send start -> the copy reached receive(), before decrypt
  // by sequence number: when each probe reached receive() and when it was decrypted (nanoTime)
  private long[] arrivedAt = new long[0];
  private long[] openedAt = new long[0];
  private int got;
  private long firstSent;
  private long lastReceived;

  private AgentEnd(Path dir, String cpUrl) {
    JsonObject config = BenchSetup.read(dir.resolve("agent.json"));
    this.dir = dir;
    this.cpUrl = cpUrl;
    this.ws = UUID.fromString(config.getString("workspace_id"));
    this.agent = UUID.fromString(config.getString("agent_id"));
    this.device = UUID.fromString(config.getString("device_id"));
    this.ed = KeyFiles.loadEd25519(dir.resolve("ed25519.key"));
    Ed25519PublicKey deviceKey = Ed25519PublicKey.fromHex(config.getString("device_ed25519"));
    this.messaging =
        new MessagingClient(
            (method, path, body) ->
                http.send(method, JsonHttp.resolve(cpUrl, path), token(), body, Map.of()),
            ws,
            agent,
            new IdentityKeyPair(ed, KeyFiles.loadX25519(dir.resolve("x25519.key"))),
            MessagingStore.open(dir.resolve("store")),
            (kind, id) -> {
              if (!id.equals(device)) {
                throw new IllegalStateException("no pin for " + kind + " " + id);
              }
              return deviceKey;
            },
            Clock.systemUTC());
  }

  /** The agent's session, signed with its key (a later millisecond each time). */
  private synchronized String token() {
    if (token == null || System.nanoTime() - tokenAt > SESSION_REFRESH_NANOS) {
      long ts = Math.max(System.currentTimeMillis(), lastSessionMs + 1);
      lastSessionMs = ts;
      byte[] msg = MachineRequests.agentSession(ws, agent, ts);
      token =
          http.post(
                  JsonHttp.resolve(cpUrl, ControlPlanePaths.AGENT_SESSIONS),
                  null,
                  new JsonObject()
                      .put("workspace_id", ws.toString())
                      .put("agent_id", agent.toString())
                      .put("timestamp_ms", ts)
                      .put("signature", BenchSetup.HEX.formatHex(ed.privateKey().sign(msg))))
              .getString("token");
      tokenAt = System.nanoTime();
    }
    return token;
  }

  /** Args: agent directory, control-plane URL (instance B), Redis URL, floor bus prefix. */
  public static void main(String[] args) throws Exception {
    AgentEnd a = new AgentEnd(Path.of(args[0]), args[1]);
    a.messaging.ensurePrekeys();
    Vertx vertx = BenchRuns.vertx();
    RedisBus floor = RedisBus.create(vertx, URI.create(args[2]), args[3]);
    floor
        .subscribe(
            OwnerEnd.FLOOR_CHANNEL,
            m -> {
              long now = System.nanoTime();
              a.record(Probe.parse(m.body().getBytes()), now, now);
            })
        .toCompletionStage()
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    LiveReceiver live =
        new LiveReceiver(
                LiveReceiver.liveUrl(args[1], a.ws),
                a::token,
                Clock.systemUTC(),
                Duration.ofSeconds(15),
                a.listener())
            .fallbackAcks(a.messaging::ack);
    a.live = live;
    a.messaging.acknowledgeThrough(live::ack);
    Thread.ofPlatform()
        .name("live")
        .start(
            () -> {
              try {
                live.run(() -> false);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      String[] c = line.trim().split("\\s+");
      if (c[0].equals("expect")) {
        a.expect(c[1], Integer.parseInt(c[2]));
        System.out.println("expecting " + c[1]);
      } else if (c[0].equals("flush")) {
        a.flush(c[1]);
      } else if (c[0].equals("quit")) {
        break;
      }
    }
    System.exit(0);
  }

  private LiveReceiver.Listener listener() {
    return new LiveReceiver.Listener() {
      @Override
      public void fetch() {
        Long after = null;
        do {
          JsonObject page =
              http.get(
                  JsonHttp.resolve(
                      cpUrl,
                      ControlPlanePaths.messages(ws)
                          + "?limit=100"
                          + (after == null ? "" : "&after=" + after)),
                  token());
          for (Object o : page.getJsonArray("items", new JsonArray())) {
            message((JsonObject) o);
          }
          after = page.getLong("next_after");
        } while (after != null);
      }

      @Override
      public void message(JsonObject m) {
        receive(m);
      }

      @Override
      public void status(String status) {
        if (status.equals("connected") && !connected) {
          connected = true;
          System.out.println("ready");
        } else if (!status.equals("connected")) {
          System.out.println("status " + status);
        }
      }
    };
  }

  /** One copy, pushed or fetched: shown once, acknowledged after it was opened. */
  private void receive(JsonObject m) {
    long arrived = System.nanoTime();
    String id = m.getString("id");
    if (!seen.add(id)) {
      live.ack(List.of(UUID.fromString(id)));
      return;
    }
    Envelope env = Envelope.parse(Base64.getDecoder().decode(m.getString("ciphertext")));
    if (env.kind() == Envelope.Kind.INITIAL || session == null) {
      MessagingClient.Outcome o = messaging.receive(m); // opens, stores, acks
      if (o.kind() != MessagingClient.OutcomeKind.STORED) {
        throw new IllegalStateException("first message not opened: " + o);
      }
      messaging.takeUnshown();
      session = messaging.store().session(device, OPTIONS).orElseThrow().session();
      record(
          Probe.parse(o.entry().getString("text").getBytes(StandardCharsets.UTF_8)),
          System.nanoTime(),
          arrived);
      return;
    }
    byte[] plain = session.decrypt(env.body());
    record(Probe.parse(plain), System.nanoTime(), arrived);
    live.ack(List.of(UUID.fromString(id)));
  }

  private synchronized void expect(String name, int count) {
    phase = name;
    latencies = new long[count];
    arrivals = new long[count];
    arrivedAt = new long[count];
    openedAt = new long[count];
    got = 0;
    firstSent = Long.MAX_VALUE;
    lastReceived = 0;
  }

  private synchronized void record(Probe p, long now, long arrived) {
    if (!p.phase().equals(phase) || got >= latencies.length) {
      return;
    }
    if (p.seq() >= 0 && p.seq() < arrivedAt.length) {
      arrivedAt[p.seq()] = arrived;
      openedAt[p.seq()] = now;
    }
    arrivals[got] = arrived - p.sentNanos();
    latencies[got++] = now - p.sentNanos();
    firstSent = Math.min(firstSent, p.sentNanos());
    lastReceived = Math.max(lastReceived, now);
    if (got == latencies.length) {
      done();
    }
  }

  /**
   * Reports the phase with what arrived when some never will (a lost Redis probe: pub/sub is at
   * most once), instead of waiting for it forever; the coordinator says so when the owner's sends
   * are long over.
   */
  private synchronized void flush(String name) {
    if (name.equals(phase) && got > 0 && got < latencies.length) {
      done();
    }
  }

  private void done() {
    if (phase.startsWith("lat")) {
      writeStamps();
    }
    long[] s = Arrays.copyOf(latencies, got);
    long[] arr = Arrays.copyOf(arrivals, got);
    long[] open = new long[got];
    for (int i = 0; i < got; i++) {
      open[i] = latencies[i] - arrivals[i];
    }
    Arrays.sort(s);
    Arrays.sort(arr);
    Arrays.sort(open);
    System.out.printf(
        Locale.ROOT,
        "done %s n=%d p50=%d p90=%d p99=%d p999=%d max=%d rate=%.0f lost=%d"
            + " arrived50=%d arrived99=%d open50=%d open99=%d%n",
        phase,
        got,
        pct(s, 0.50),
        pct(s, 0.90),
        pct(s, 0.99),
        pct(s, 0.999),
        s[s.length - 1] / 1000,
        got / ((lastReceived - firstSent) / 1e9),
        latencies.length - got,
        pct(arr, 0.50),
        pct(arr, 0.99),
        pct(open, 0.50),
        pct(open, 0.99));
    got = latencies.length; // reported once
  }

  /**
   * The phase's stamps by sequence number, {@code seq arrived opened} (0: never arrived), for the
   * coordinator's breakdown ({@link Breakdown}); a failed write is said, not fatal.
   */
  private void writeStamps() {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < arrivedAt.length; i++) {
      b.append(i).append(' ').append(arrivedAt[i]).append(' ').append(openedAt[i]).append('\n');
    }
    try {
      java.nio.file.Files.writeString(dir.resolve("stamps-" + phase + ".tsv"), b);
    } catch (java.io.IOException e) {
      System.out.println("stamps of " + phase + " not written: " + e);
    }
  }

  /** A percentile in microseconds. */
  private static long pct(long[] sorted, double q) {
    return sorted[(int) Math.floor(q * (sorted.length - 1))] / 1000;
  }
}
