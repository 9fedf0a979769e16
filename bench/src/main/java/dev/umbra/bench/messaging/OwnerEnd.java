package dev.umbra.bench.messaging;

import dev.umbra.bench.BenchRuns;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.messaging.Envelope;
import dev.umbra.client.messaging.MessagingClient;
import dev.umbra.client.messaging.MessagingStore;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.messaging.IdentityKeyPair;
import dev.umbra.crypto.messaging.RatchetOptions;
import dev.umbra.crypto.messaging.RatchetSession;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.http.EdgeLimits;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The sending end of the messaging benchmark, in its own process: the owner's trusted device,
 * connected to control-plane instance A. Its first message goes through the real {@link
 * MessagingClient} (X3DH against the agent's published prekey bundle, pinned key); the measured
 * messages are encrypted with that same Double Ratchet session (held in memory, not written back to
 * the store after each message) and posted as {@code POST /messages/batch} ({@link PostBatcher}: at
 * most 2 requests in flight; what queues meanwhile goes together, up to 64 a request), at most
 * {@code window} messages in flight over keep-alive connections ({@link SendWindow}: a stalled
 * window ends the process naming what is outstanding). Per latency phase it writes each message's
 * stamps ({@link Stamps}) for the coordinator's {@link Breakdown}. It also publishes the Redis
 * floor's probes.
 *
 * <p>Commands on stdin, one a line, each answered on stdout: {@code first}, {@code umbra <phase>
 * <count> <rate/s, 0 = as fast as the window allows> <window>}, {@code floor <phase> <count>
 * <rate/s>}, {@code quit}.
 */
public final class OwnerEnd {
  static final String FLOOR_CHANNEL = "umbra.bench.floor";
  private static final long SESSION_REFRESH_NANOS = 5L * 60 * 1_000_000_000L;

  /** A request fails after this long, whatever it waits for (its permits come back). */
  static final long POST_DEADLINE_MS = 45_000;

  private final JsonObject config;
  private final Path dir;
  private final java.time.Duration stall;
  private final String path;
  private final String cpUrl;
  private final UUID ws;
  private final UUID agent;
  private final UUID conversation;
  private final JsonHttp http = new JsonHttp();
  private final Vertx vertx = BenchRuns.vertx();
  private final HttpClient client;

  /**
   * Where every request is made, so that its callbacks and its connection share one event loop.
   * Vert.x 5.0.7's client can lose a response's end when {@code body()} is called on another thread
   * than the one ending the response (eclipse-vertx/vert.x#6038, fixed after 5.0.7): a request made
   * from the sender's thread then timed out though answered (1–4 of 10 000 sends a run, 45 s each).
   */
  private final Context requests = vertx.getOrCreateContext();

  private final RedisBus floor;
  private final MessagingClient messaging;
  private final AtomicReference<String> token = new AtomicReference<>();
  private long tokenAt;
  private RatchetSession session;

  private OwnerEnd(
      Path dir, String cpUrl, URI redis, String floorPrefix, int window, java.time.Duration stall) {
    this.config = BenchSetup.read(dir.resolve("owner.json"));
    this.dir = dir;
    this.stall = stall;
    this.cpUrl = cpUrl;
    this.ws = UUID.fromString(config.getString("workspace_id"));
    this.agent = UUID.fromString(config.getString("agent_id"));
    this.conversation = UUID.fromString(config.getString("conversation_id"));
    this.path = ControlPlanePaths.messagesBatch(ws);
    UUID device = UUID.fromString(config.getString("device_id"));
    URI base = URI.create(cpUrl);
    this.client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setDefaultHost(base.getHost())
                .setDefaultPort(base.getPort())
                .setKeepAlive(true)
                // below the control plane's idle timeout, as the services' own clients
                .setKeepAliveTimeout(EdgeLimits.CLIENT_KEEP_ALIVE_SECONDS)
                .setTcpNoDelay(true),
            new PoolOptions().setHttp1MaxSize(window));
    this.floor = RedisBus.create(vertx, redis, floorPrefix);
    Ed25519PublicKey agentKey = Ed25519PublicKey.fromHex(config.getString("agent_ed25519"));
    this.messaging =
        new MessagingClient(
            (method, path, body) ->
                http.send(method, JsonHttp.resolve(cpUrl, path), token(), body, Map.of()),
            ws,
            device,
            IdentityKeyPair.withFreshDhKey(KeyFiles.loadEd25519(dir.resolve("device-ed25519.key"))),
            MessagingStore.open(dir.resolve("store")),
            (kind, id) -> {
              if (!id.equals(agent)) {
                throw new IllegalStateException("no pin for " + kind + " " + id);
              }
              return agentKey;
            },
            Clock.systemUTC());
  }

  /** The device's control-plane session (refreshed before the ten-minute lifetime runs out). */
  private synchronized String token() {
    if (token.get() == null || System.nanoTime() - tokenAt > SESSION_REFRESH_NANOS) {
      token.set(
          deviceSession(
              http,
              cpUrl,
              config.getString("api_token"),
              ws,
              UUID.fromString(config.getString("device_id"))));
      tokenAt = System.nanoTime();
    }
    return token.get();
  }

  static String deviceSession(JsonHttp http, String cpUrl, String apiToken, UUID ws, UUID device) {
    return http.post(
            JsonHttp.resolve(cpUrl, ControlPlanePaths.SESSIONS),
            apiToken,
            new JsonObject()
                .put("workspace_id", ws.toString())
                .put("audience", "control-plane")
                .put("device_id", device.toString()))
        .getString("token");
  }

  /**
   * Args: owner directory, control-plane URL, Redis URL, floor bus prefix, maximum window, stall
   * limit in seconds. A command that fails or stalls ends the process with what went wrong (it
   * never waits on with its main thread gone).
   */
  public static void main(String[] args) throws Exception {
    OwnerEnd owner =
        new OwnerEnd(
            Path.of(args[0]),
            args[1],
            URI.create(args[2]),
            args[3],
            Integer.parseInt(args[4]),
            java.time.Duration.ofSeconds(Long.parseLong(args[5])));
    System.out.println("ready");
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      String[] c = line.trim().split("\\s+");
      try {
        owner.command(c);
      } catch (SendWindow.Stalled e) {
        System.out.println("stalled " + c[1] + ": " + e.getMessage());
        System.exit(3);
      } catch (Exception | Error e) {
        System.out.println("failed " + line + ": " + e);
        e.printStackTrace();
        System.exit(2);
      }
    }
    System.exit(0);
  }

  private void command(String[] c) throws Exception {
    switch (c[0]) {
      case "first" -> first();
      case "umbra" ->
          umbra(c[1], Integer.parseInt(c[2]), Integer.parseInt(c[3]), Integer.parseInt(c[4]));
      case "floor" -> floor(c[1], Integer.parseInt(c[2]), Integer.parseInt(c[3]));
      case "quit" -> System.exit(0);
      default -> throw new IllegalArgumentException("unknown command " + String.join(" ", c));
    }
  }

  /** The first message through the client (X3DH); then its session is the one the loop uses. */
  private void first() {
    messaging.send(
        conversation,
        new String(new Probe("first", 0, System.nanoTime()).encode(), StandardCharsets.UTF_8));
    session =
        messaging
            .store()
            .session(agent, RatchetOptions.defaults(Clock.systemUTC()))
            .orElseThrow()
            .session();
    System.out.println("sent first");
  }

  private void umbra(String phase, int count, int rate, int window)
      throws SendWindow.Stalled, InterruptedException, java.io.IOException {
    Stamps st = new Stamps(count);
    PostBatcher[] batcher = new PostBatcher[1];
    batcher[0] = new PostBatcher((seqs, messages) -> post(seqs, messages, st));
    SendWindow inFlight = new SendWindow(window, stall, () -> batcher[0].state());
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      pace(start, i, rate);
      token(); // a refresh here, on this thread: never on an event loop, never inside the batcher
      int seq = i;
      inFlight.send(seq, () -> send(phase, seq, st, batcher[0]));
    }
    inFlight.drain();
    double seconds = (System.nanoTime() - start) / 1e9;
    if (phase.startsWith("lat")) {
      st.write(dir.resolve("stamps-" + phase + ".tsv"));
    }
    System.out.printf(
        java.util.Locale.ROOT,
        "sent %s %d in %.2f s (%.0f/s posted in %d requests; answered p50 %d us p99 %d us;"
            + " sealed p50 %d us p99 %d us) failed=%d%s%n",
        phase,
        count,
        seconds,
        count / seconds,
        batcher[0].requests(),
        pct(st.since(st.answered), 0.5),
        pct(st.since(st.answered), 0.99),
        pct(st.since(st.sealed), 0.5),
        pct(st.since(st.sealed), 0.99),
        inFlight.failed(),
        inFlight.failed() == 0 ? "" : " last: " + inFlight.lastError());
  }

  /** Message {@code seq}: sealed now (its send start), queued for a request; its outcome. */
  private Future<Void> send(String phase, int seq, Stamps st, PostBatcher batcher) {
    long t = System.nanoTime();
    st.start[seq] = t;
    byte[] ciphertext =
        new Envelope(
                Envelope.Kind.RATCHET, session.encrypt(new Probe(phase, seq, t).encode()).encode())
            .encode();
    st.sealed[seq] = System.nanoTime();
    JsonObject send =
        new JsonObject()
            .put("id", UUID.randomUUID().toString())
            .put("conversation_id", conversation.toString())
            .put(
                "copies",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("recipient_id", agent.toString())
                            .put("ciphertext", Base64.getEncoder().encodeToString(ciphertext))));
    return batcher.add(seq, send).onComplete(ar -> st.answered[seq] = System.nanoTime());
  }

  /**
   * One {@code POST /messages/batch}; fails on anything but a 200 without errors, and after {@link
   * #POST_DEADLINE_MS} whatever it waits for (a connection from the pool included, which the idle
   * timeout does not cover).
   */
  private Future<Void> post(int[] seqs, JsonArray messages, Stamps st) {
    Buffer body = new JsonObject().put("messages", messages).toBuffer();
    String bearer = "Bearer " + token.get();
    if (Vertx.currentContext() != requests) {
      Promise<Void> posted = Promise.promise();
      requests.runOnContext(v -> request(seqs, body, bearer, st).onComplete(posted));
      return posted.future();
    }
    return request(seqs, body, bearer, st);
  }

  /** The request itself, on {@link #requests}. */
  private Future<Void> request(int[] seqs, Buffer body, String bearer, Stamps st) {
    return client
        .request(
            new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setURI(path)
                // a lost answer fails its request (its messages' permits come back)
                .setIdleTimeout(30_000)
                .putHeader("authorization", bearer)
                .putHeader("content-type", "application/json"))
        .compose(
            req -> {
              long now = System.nanoTime();
              for (int s : seqs) {
                st.posted[s] = now;
              }
              return req.send(body);
            })
        .compose(
            resp ->
                resp.body()
                    .compose(
                        b ->
                            resp.statusCode() == 200 && !b.toString().contains("\"error\"")
                                ? Future.<Void>succeededFuture()
                                : Future.failedFuture("HTTP " + resp.statusCode() + " " + b)))
        .timeout(POST_DEADLINE_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  private void floor(String phase, int count, int rate) throws Exception {
    AtomicInteger failed = new AtomicInteger();
    long start = System.nanoTime();
    Future<?> last = Future.succeededFuture();
    for (int i = 0; i < count; i++) {
      pace(start, i, rate);
      last =
          floor
              .publish(
                  FLOOR_CHANNEL, Buffer.buffer(new Probe(phase, i, System.nanoTime()).encode()))
              .onFailure(e -> failed.incrementAndGet());
    }
    last.toCompletionStage().toCompletableFuture().get(60, java.util.concurrent.TimeUnit.SECONDS);
    System.out.printf(
        java.util.Locale.ROOT,
        "sent %s %d in %.2f s failed=%d%n",
        phase,
        count,
        (System.nanoTime() - start) / 1e9,
        failed.get());
  }

  /** A percentile of nanosecond samples, in microseconds. */
  static long pct(long[] samples, double q) {
    long[] s = samples.clone();
    java.util.Arrays.sort(s);
    return s[(int) Math.floor(q * (s.length - 1))] / 1000;
  }

  /** Waits until the {@code i}-th send of a {@code rate}/s schedule is due (0: no schedule). */
  static void pace(long start, int i, int rate) {
    if (rate <= 0) {
      return;
    }
    long due = start + (long) (i * (1e9 / rate));
    for (long left = due - System.nanoTime(); left > 0; left = due - System.nanoTime()) {
      LockSupport.parkNanos(left);
    }
  }
}
