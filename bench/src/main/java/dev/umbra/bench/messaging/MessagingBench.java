package dev.umbra.bench.messaging;

import dev.umbra.bench.BenchRuns;
import dev.umbra.bench.ThreadTimes;
import dev.umbra.kit.db.PgLocation;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * Owner → agent messaging across two control-plane instances against a bare Redis pub/sub hop, in
 * one run (docs/benchmarks.md, "Messaging"). Five JVMs: control-plane instances A and B (sharing a
 * fresh PostgreSQL database and a Redis prefix), the owner's device sending to A ({@link OwnerEnd})
 * and the agent receiving live on B ({@link AgentEnd}), and this coordinator, which makes the
 * workspace and principals through the API ({@link BenchSetup}) and drives the ends phase by phase.
 *
 * <ul>
 *   <li><b>warm-up</b>: {@code umbra.bench.warmupSingle} (10 000) messages one a request (window
 *       1), as the latency rounds send them, then {@code umbra.bench.warmup} (20 000) as in the
 *       throughput phase; not counted (the JIT compilers of every JVM). The batched warm-up alone
 *       made ~300 requests, so the per-request code of the latency rounds (HTTP, routing,
 *       authentication, the transaction's framing) still ran interpreted or in profiled C1 code and
 *       was being compiled during them (docs/benchmarks.md, "the owner's POST"). Then {@code
 *       umbra.bench.warmupRounds} (1) rounds as the latency rounds below, not counted: at their
 *       pace the services deoptimise and compile again what the batches compiled. Before those, A's
 *       and B's {@code /metrics} are read {@code umbra.bench.warmupScrapes} (40) times, so the
 *       scrape that {@link Breakdown} makes before each round's messages runs compiled code.
 *   <li><b>latency</b>: {@code umbra.bench.latencyCount} (600) probes at {@code umbra.bench.rate}
 *       (50/s, well under capacity, so queueing stays out of it), from the owner's send start
 *       (before encryption) to the agent's decrypted plaintext; and in the same round the same
 *       number of probes at the same rate published on Redis by the owner's process and received by
 *       a subscriber in the agent's process, through the services' own bus client ({@code
 *       RedisBus}): the floor. Rounds ({@code umbra.bench.rounds}, 3) alternate floor and
 *       messaging; the medians of the rounds are compared. After each round, how long the threads
 *       of each process waited runnable for a CPU and how long the JIT compilers ran, from the
 *       kernel's schedstat ({@link ThreadTimes}).
 *   <li><b>throughput</b>: {@code umbra.bench.messages} (20 000) sent as fast as a window of {@code
 *       umbra.bench.window} (64) messages in flight allows (posted several a request, {@link
 *       OwnerEnd}); messages/s = count ÷ (last decrypted − first send start). The CPU time each JVM
 *       spent in this phase is printed per message.
 * </ul>
 *
 * After the summary, {@link Breakdown}: where the latency rounds' time went, per message from the
 * ends' stamps and per stage from the control planes' {@code umbra_messaging_stage_seconds}
 * histograms. Option {@code umbra.bench.stallSeconds} (90): the owner fails, naming what is
 * outstanding, when its window makes no progress for that long.
 *
 * <p>Option {@code umbra.bench.jfr=DIR}: a JFR recording of every JVM, written there. {@code
 * umbra.bench.cpHeap} (512m): the control planes' heap. {@code umbra.bench.attach}: a tool run for
 * the first latency round ({@code bench/msg-hops.sh}, see {@link #attach}).
 *
 * <p>PostgreSQL from {@code UMBRA_BENCH_PG_URL} (default
 * postgresql://postgres@127.0.0.1:5432/postgres; a fresh database is created and dropped), Redis
 * from {@code UMBRA_BENCH_REDIS_URL}.
 */
public final class MessagingBench {
  private static final String BOOTSTRAP = "bench-bootstrap-" + UUID.randomUUID();
  private static final String INTERNAL = "bench-internal-" + UUID.randomUUID();

  private MessagingBench() {}

  /** One phase's result as the agent printed it (microseconds, messages/s). */
  record Result(
      String phase,
      int n,
      long p50,
      long p90,
      long p99,
      long p999,
      long max,
      double rate,
      int lost) {
    static Result parse(String line) {
      Map<String, String> f = new HashMap<>();
      String[] parts = line.split(" ");
      for (int i = 2; i < parts.length; i++) {
        String[] kv = parts[i].split("=", 2);
        f.put(kv[0], kv[1]);
      }
      return new Result(
          parts[1],
          Integer.parseInt(f.get("n")),
          Long.parseLong(f.get("p50")),
          Long.parseLong(f.get("p90")),
          Long.parseLong(f.get("p99")),
          Long.parseLong(f.get("p999")),
          Long.parseLong(f.get("max")),
          Double.parseDouble(f.get("rate")),
          Integer.parseInt(f.getOrDefault("lost", "0")));
    }
  }

  public static void main(String[] args) {
    BenchRuns.runAndExit(MessagingBench::run);
  }

  /** The run's sizes, from system properties (class comment). */
  record Settings(
      int rate,
      int latencyCount,
      int rounds,
      int messages,
      int window,
      int warmup,
      int warmupSingle,
      int warmupRounds,
      int warmupScrapes,
      int stallSeconds) {
    static Settings fromProperties() {
      return new Settings(
          Integer.getInteger("umbra.bench.rate", 50),
          Integer.getInteger("umbra.bench.latencyCount", 600),
          Integer.getInteger("umbra.bench.rounds", 3),
          Integer.getInteger("umbra.bench.messages", 20_000),
          Integer.getInteger("umbra.bench.window", 64),
          Integer.getInteger("umbra.bench.warmup", 20_000),
          Integer.getInteger("umbra.bench.warmupSingle", 10_000),
          Integer.getInteger("umbra.bench.warmupRounds", 1),
          Integer.getInteger("umbra.bench.warmupScrapes", 40),
          Integer.getInteger("umbra.bench.stallSeconds", 90));
    }
  }

  private static void run() throws Exception {
    Settings s = Settings.fromProperties();
    URI pgServer =
        URI.create(
            BenchRuns.env("UMBRA_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"));
    String redis = BenchRuns.env("UMBRA_BENCH_REDIS_URL", "redis://127.0.0.1:6379");
    PgLocation admin = PgLocation.parse(pgServer).withDatabase("postgres");
    String dbName =
        "umbra_msgbench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    System.out.println(dev.umbra.bench.BenchMachine.describe());
    System.out.println(BenchRuns.postgresSettings(admin));
    Path tmp = Files.createTempDirectory("umbra-msgbench");
    BenchRuns.sql(admin, "CREATE DATABASE " + dbName);
    List<JvmProcess> all = new ArrayList<>();
    try {
      Breakdown breakdown =
          new Breakdown(start(all, tmp, pgServer.resolve("/" + dbName).toString(), redis, s));
      measure(s, all, all.get(3), all.get(2), new PgBackendsCpu(admin, dbName), breakdown, tmp);
    } finally {
      for (int i = all.size() - 1; i >= 0; i--) {
        all.get(i).close();
      }
      BenchRuns.sql(admin, "DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)");
    }
  }

  /**
   * Starts control planes A and B, makes the principals through A, then the agent (live on B) and
   * the owner (sending to A); {@code all} gets them in that order. Answers the control planes' base
   * URLs by name.
   */
  private static Map<String, String> start(
      List<JvmProcess> all, Path tmp, String pgUrl, String redis, Settings s) throws Exception {
    String prefix = "msgbench" + UUID.randomUUID().toString().substring(0, 8) + ":";
    int portA = freePort();
    JvmProcess a = controlPlane("cp-a", portA, pgUrl, redis, prefix, tmp);
    all.add(a);
    a.awaitHealthy(portA); // A migrates the database before B starts
    int portB = freePort();
    JvmProcess b = controlPlane("cp-b", portB, pgUrl, redis, prefix, tmp);
    all.add(b);
    b.awaitHealthy(portB);
    String urlA = "http://127.0.0.1:" + portA;
    String urlB = "http://127.0.0.1:" + portB;
    BenchSetup.run(urlA, BOOTSTRAP, INTERNAL, tmp.resolve("owner"), tmp.resolve("agent"));
    String floorPrefix = prefix + "floor:";
    JvmProcess agent =
        end(
            "agent",
            AgentEnd.class,
            tmp,
            List.of(tmp.resolve("agent").toString(), urlB, redis, floorPrefix));
    all.add(agent);
    agent.await("ready", 180); // 60 s was too short at a load average over 30
    JvmProcess owner =
        end(
            "owner",
            OwnerEnd.class,
            tmp,
            List.of(
                tmp.resolve("owner").toString(),
                urlA,
                redis,
                floorPrefix,
                String.valueOf(s.window()),
                String.valueOf(s.stallSeconds())));
    all.add(owner);
    owner.await("ready", 180);
    return Map.of("cp-a", urlA, "cp-b", urlB);
  }

  /** The phases: first message, warm-up, alternating latency rounds, throughput; the report. */
  private static void measure(
      Settings s,
      List<JvmProcess> all,
      JvmProcess owner,
      JvmProcess agent,
      PgBackendsCpu pg,
      Breakdown breakdown,
      Path tmp)
      throws Exception {
    phase(owner, agent, "first", 1, "first");
    System.out.printf(
        Locale.ROOT,
        "messaging-bench cores=%d load=%.2f rate=%d/s latency probes=%d rounds=%d messages=%d window=%d%n",
        Runtime.getRuntime().availableProcessors(),
        load(),
        s.rate(),
        s.latencyCount(),
        s.rounds(),
        s.messages(),
        s.window());
    warmUp(s, owner, agent, breakdown);
    List<Result> floors = new ArrayList<>();
    List<Result> umbras = new ArrayList<>();
    String n = " " + s.latencyCount() + " " + s.rate();
    for (int r = 1; r <= s.rounds(); r++) {
      ThreadTimes.Reading floorStart = ThreadTimes.read(pids(all, pg));
      Result f = phase(owner, agent, "floor" + r, s.latencyCount(), "floor floor" + r + n);
      Process tool = r == 1 ? attach("lat1", all) : null;
      breakdown.roundStarts();
      ThreadTimes.Reading umbraStart = ThreadTimes.read(pids(all, pg));
      Result u =
          phase(owner, agent, "lat" + r, s.latencyCount(), "umbra lat" + r + n + " " + s.window());
      ThreadTimes.Reading umbraEnd = ThreadTimes.read(pids(all, pg));
      detach(tool);
      System.out.println(
          scheduling(r, "floor", all, floorStart, umbraStart, s.latencyCount())
              + "\n"
              + scheduling(r, "umbra", all, umbraStart, umbraEnd, s.latencyCount()));
      breakdown.roundEnded("lat" + r, tmp.resolve("owner"), tmp.resolve("agent"));
      floors.add(f);
      umbras.add(u);
      System.out.printf(
          Locale.ROOT,
          "round %d at %d/s: redis floor %s | umbra %s | p99 ratio %.2f%n",
          r,
          s.rate(),
          line(f),
          line(u),
          (double) u.p99() / f.p99());
    }
    Result t = throughput(s, all, owner, agent, pg);
    report(floors, umbras, t, s.rate(), s.window(), s.latencyCount());
    System.out.println(breakdown.render());
    owner.send("quit");
    agent.send("quit");
  }

  /**
   * The warm-up, not counted: messages one a request, then batched, then rounds as the latency
   * rounds.
   */
  private static void warmUp(Settings s, JvmProcess owner, JvmProcess agent, Breakdown breakdown)
      throws Exception {
    if (s.warmupSingle() > 0) {
      Result w1 =
          phase(
              owner, agent, "warm1", s.warmupSingle(), "umbra warm1 " + s.warmupSingle() + " 0 1");
      System.out.println("warm-up one a request (not counted): " + line(w1));
    }
    Result w =
        phase(owner, agent, "warm", s.warmup(), "umbra warm " + s.warmup() + " 0 " + s.window());
    System.out.println("warm-up (not counted): " + line(w));
    breakdown.warmUp(s.warmupScrapes());
    String n = " " + s.latencyCount() + " " + s.rate();
    for (int r = 1; r <= s.warmupRounds(); r++) {
      // the latency rounds' pace after the batches of the warm-up: the services deoptimise what
      // the batches compiled (JFR: 36 and 51 deoptimisations in A and B as round 1 began) and
      // compile again; that belongs to no counted round
      Result f = phase(owner, agent, "wfloor" + r, s.latencyCount(), "floor wfloor" + r + n);
      Result u =
          phase(
              owner, agent, "wlat" + r, s.latencyCount(), "umbra wlat" + r + n + " " + s.window());
      System.out.printf(
          Locale.ROOT,
          "warm-up round %d at %d/s (not counted): redis floor %s | umbra %s%n",
          r,
          s.rate(),
          line(f),
          line(u));
    }
  }

  /** The throughput phase and the CPU per message each process spent in it, printed. */
  private static Result throughput(
      Settings s, List<JvmProcess> all, JvmProcess owner, JvmProcess agent, PgBackendsCpu pg)
      throws Exception {
    long[] cpuBefore = cpu(all);
    Map<Integer, Long> pgBefore = pg.ticks();
    Result t =
        phase(
            owner, agent, "tput", s.messages(), "umbra tput " + s.messages() + " 0 " + s.window());
    long[] cpuAfter = cpu(all);
    Map<Integer, Long> pgAfter = pg.ticks();
    StringBuilder per = new StringBuilder("CPU per message in the throughput phase (user+system):");
    long total = 0;
    for (int i = 0; i < all.size(); i++) {
      long us = (cpuAfter[i] - cpuBefore[i]) / 1000 / s.messages();
      total += us;
      per.append(String.format(Locale.ROOT, " %s %d us", all.get(i).name, us));
    }
    if (pgAfter.isEmpty()) {
      per.append(" postgres n/a (not on this machine)");
    } else {
      long us = PgBackendsCpu.nanosBetween(pgBefore, pgAfter) / 1000 / s.messages();
      total += us;
      per.append(String.format(Locale.ROOT, " postgres %d us (%d backends)", us, pgAfter.size()));
    }
    System.out.println(per.append(String.format(Locale.ROOT, "; total %d us", total)));
    return t;
  }

  /**
   * Option {@code umbra.bench.attach="CMD … {what} … {pids}"}: a tool (e.g. {@code
   * bench/msg-hops.sh attach}) run for the first latency round, {@code {pids}} the processes as
   * {@code name=pid …}; stopped with SIGINT after the round. Null without the option.
   */
  private static Process attach(String what, List<JvmProcess> all) throws Exception {
    String cmd = System.getProperty("umbra.bench.attach");
    if (cmd == null) {
      return null;
    }
    StringBuilder pids = new StringBuilder();
    all.forEach(p -> pids.append(p.name).append('=').append(p.process.pid()).append(' '));
    Process tool =
        new ProcessBuilder(
                "sh", "-c", cmd.replace("{what}", what).replace("{pids}", pids.toString().trim()))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    // the tool says "recording" once it has looked the threads up (slow on a loaded machine)
    var out = new java.io.BufferedReader(new java.io.InputStreamReader(tool.getInputStream()));
    for (String l = out.readLine(); l != null && !l.equals("recording"); l = out.readLine()) {
      System.out.println("  [attach] " + l);
    }
    Thread.sleep(1_000); // the recorder started
    return tool;
  }

  private static void detach(Process tool) throws Exception {
    if (tool == null) {
      return;
    }
    tool.descendants().forEach(d -> signal(d.pid()));
    signal(tool.pid());
    tool.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
  }

  private static void signal(long pid) {
    try {
      new ProcessBuilder("kill", "-INT", String.valueOf(pid)).start().waitFor();
    } catch (java.io.IOException e) {
      // gone already
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The JVMs' process ids, then the bench database's PostgreSQL backends'. */
  private static List<Long> pids(List<JvmProcess> all, PgBackendsCpu pg) {
    List<Long> out = new ArrayList<>();
    all.forEach(p -> out.add(p.process.pid()));
    pg.ticks().keySet().forEach(pid -> out.add((long) pid));
    return out;
  }

  /**
   * "round 1 umbra scheduling: waited runnable cp-a 152 ms …, postgres …; JIT compiling cp-a 160 ms
   * …": per process between two readings (PostgreSQL: every backend of the later reading).
   */
  private static String scheduling(
      int round,
      String phase,
      List<JvmProcess> all,
      ThreadTimes.Reading from,
      ThreadTimes.Reading to,
      int messages) {
    StringBuilder waited = new StringBuilder();
    StringBuilder jit = new StringBuilder();
    long total = 0;
    for (JvmProcess p : all) {
      ThreadTimes.Delta d = ThreadTimes.between(from, to, p.process.pid());
      total += d.waitNs();
      waited.append(
          String.format(
              Locale.ROOT,
              " %s %d (%s %d)",
              p.name,
              d.waitNs() / 1_000_000,
              d.topWaiter(),
              d.topWaitNs() / 1_000_000));
      jit.append(String.format(Locale.ROOT, " %s %d", p.name, d.jitNs() / 1_000_000));
    }
    ThreadTimes.Delta pgTotal = ThreadTimes.Delta.NONE;
    for (long pid : to.byProcess().keySet()) {
      if (all.stream().noneMatch(p -> p.process.pid() == pid)) {
        pgTotal = pgTotal.plus(ThreadTimes.between(from, to, pid));
      }
    }
    total += pgTotal.waitNs();
    return String.format(
        Locale.ROOT,
        "  round %d %s scheduling (schedstat, ms): waited runnable%s postgres %d (%.0f us a message);"
            + " JIT compiling%s",
        round,
        phase,
        waited,
        pgTotal.waitNs() / 1_000_000,
        total / 1000.0 / messages,
        jit);
  }

  private static Result phase(
      JvmProcess owner, JvmProcess agent, String name, int count, String command) throws Exception {
    agent.send("expect " + name + " " + count);
    // probes of a phase the agent does not expect yet are dropped: under load its stdin can lag
    agent.await("expecting " + name, 60);
    owner.send(command);
    String sent = owner.await("sent " + name, 600);
    String done;
    try {
      done = agent.await("done " + name + " ", name.startsWith("floor") ? 60 : 600);
    } catch (IllegalStateException e) {
      // a Redis probe lost on the way (pub/sub is at most once): report what arrived
      agent.send("flush " + name);
      done = agent.await("done " + name + " ", 60);
    }
    Result r = Result.parse(done);
    if (r.lost() > 0) {
      System.out.println("  [agent] " + name + ": " + r.lost() + " probes never arrived");
    }
    if (!name.equals("first")) {
      System.out.println("  [owner] " + sent);
      System.out.println("  [agent] " + done);
    }
    return r;
  }

  private static void report(
      List<Result> floors, List<Result> umbras, Result t, int rate, int window, int latencyCount) {
    long fp50 = median(floors, Result::p50);
    long fp99 = median(floors, Result::p99);
    long up50 = median(umbras, Result::p50);
    long up99 = median(umbras, Result::p99);
    System.out.printf(
        Locale.ROOT,
        "%nlatency, %d probes at %d/s, median of %d rounds   p50 us    p99 us%n",
        latencyCount,
        rate,
        floors.size());
    System.out.printf(
        Locale.ROOT, "redis pub/sub floor (owner -> agent process) %8d %9d%n", fp50, fp99);
    System.out.printf(
        Locale.ROOT, "umbra owner (A) -> agent (B), decrypted      %8d %9d%n", up50, up99);
    System.out.printf(
        Locale.ROOT,
        "throughput %d messages, window %d: %.0f msg/s; latency under that load p50 %d us p99 %d us%n",
        t.n(),
        window,
        t.rate(),
        t.p50(),
        t.p99());
    System.out.printf(
        Locale.ROOT,
        "load average %.2f on %d cores%n",
        load(),
        Runtime.getRuntime().availableProcessors());
    System.out.printf(Locale.ROOT, "p99 umbra/redis-floor %.2f (goal ≤ 3)%n", (double) up99 / fp99);
    System.out.printf(Locale.ROOT, "throughput %.0f msg/s (goal ≥ 2000)%n", t.rate());
  }

  private static String line(Result r) {
    return String.format(
        Locale.ROOT,
        "p50 %d p90 %d p99 %d p99.9 %d max %d us (%.0f/s)",
        r.p50(),
        r.p90(),
        r.p99(),
        r.p999(),
        r.max(),
        r.rate());
  }

  private static long median(List<Result> rs, java.util.function.ToLongFunction<Result> f) {
    long[] v = rs.stream().mapToLong(f).sorted().toArray();
    return v[v.length / 2];
  }

  private static JvmProcess controlPlane(
      String name, int port, String pgUrl, String redis, String prefix, Path tmp) throws Exception {
    Path home = tmp.resolve(name);
    Files.createDirectories(home); // the service sets its own modes under UMBRA_HOME
    Map<String, String> env = new HashMap<>();
    env.put("UMBRA_PG_URL", pgUrl);
    env.put("UMBRA_REDIS_URL", redis);
    env.put("UMBRA_BUS_PREFIX", prefix);
    env.put("UMBRA_BIND_HOST", "127.0.0.1");
    env.put("UMBRA_HOME", home.toString());
    env.put("UMBRA_CONTROL_PLANE_PORT", String.valueOf(port));
    env.put("UMBRA_CONTROL_PLANE_URL", "http://127.0.0.1:" + port);
    env.put("UMBRA_INTERNAL_TOKEN", INTERNAL);
    env.put("UMBRA_BOOTSTRAP_TOKEN", BOOTSTRAP);
    env.put("UMBRA_LOG_LEVEL", "WARN");
    return JvmProcess.start(
        name,
        "dev.umbra.controlplane.Main",
        System.getProperty("umbra.bench.cpHeap", "512m"),
        env,
        List.of(),
        tmp.resolve(name + ".log"),
        false);
  }

  private static JvmProcess end(String name, Class<?> main, Path tmp, List<String> args)
      throws Exception {
    return JvmProcess.start(
        name,
        main.getName(),
        "256m",
        Map.of("UMBRA_LOG_LEVEL", "WARN"),
        args,
        tmp.resolve(name + ".log"),
        true);
  }

  /** Each process's CPU time so far (nanoseconds, all threads, user + system). */
  private static long[] cpu(List<JvmProcess> ps) {
    long[] out = new long[ps.size()];
    for (int i = 0; i < ps.size(); i++) {
      out[i] =
          ps.get(i).process.info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
    }
    return out;
  }

  static double load() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
