package dev.umbra.kit.bus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;

/**
 * The registration bookkeeping of {@link RedisBus}: which listeners a name has and which
 * SUBSCRIBE/UNSUBSCRIBE reach Redis, in what order. Redis is modelled by {@link RedisModel}, which
 * sees the commands in the order they are issued, as the subscriber connection would; the bus
 * against the real Redis is {@code RedisBusTest}.
 */
class TopicRegistryTest {

  private static final String NAME = "umbra.test.race";

  // ---- the rules, one thread ----

  @Test
  void theFirstListenerOfANameSubscribesAndTheOthersShareItsSubscribe() {
    RedisModel redis = new RedisModel();
    TopicRegistry<String, Long> registry = new TopicRegistry<>(redis);

    var a = registry.add(NAME, "a");
    var b = registry.add(NAME, "b");

    assertThat(redis.log()).containsExactly("SUBSCRIBE " + NAME);
    assertThat(b.subscribed()).as("b waits for a's SUBSCRIBE").isEqualTo(a.subscribed());
    assertThat(registry.listeners(NAME)).containsExactly("a", "b");
    assertThat(registry.names()).containsExactly(NAME);
  }

  @Test
  void onlyTheRemovalOfTheLastListenerUnsubscribesAndRemovingTwiceDoesNothing() {
    RedisModel redis = new RedisModel();
    TopicRegistry<String, Long> registry = new TopicRegistry<>(redis);
    var a = registry.add(NAME, "a");
    var b = registry.add(NAME, "b");

    assertThat(registry.remove(a)).isEmpty();
    assertThat(registry.remove(b)).isPresent();
    assertThat(registry.remove(b)).isEmpty();

    assertThat(redis.log()).containsExactly("SUBSCRIBE " + NAME, "UNSUBSCRIBE " + NAME);
    assertThat(registry.listeners(NAME)).isEmpty();
    assertThat(registry.isEmpty()).isTrue();
  }

  @Test
  void aFailedSubscribeIsNotSharedWithTheNextListenerAndSendsNoUnsubscribe() {
    RedisModel redis = new RedisModel();
    TopicRegistry<String, Long> registry = new TopicRegistry<>(redis);
    var failed = registry.add(NAME, "a");

    registry.abandon(failed);
    redis.lost(NAME);
    var next = registry.add(NAME, "b");

    assertThat(redis.log()).containsExactly("SUBSCRIBE " + NAME, "SUBSCRIBE " + NAME);
    assertThat(next.subscribed()).isNotEqualTo(failed.subscribed());
    assertThat(registry.listeners(NAME)).containsExactly("b");
  }

  @Test
  void aListenerLeftOnAnAbandonedTopicDoesNotUnsubscribeTheNewOne() {
    RedisModel redis = new RedisModel();
    TopicRegistry<String, Long> registry = new TopicRegistry<>(redis);
    var failed = registry.add(NAME, "a");
    var sharedTheFailure = registry.add(NAME, "b");
    registry.abandon(failed);
    redis.lost(NAME);
    registry.add(NAME, "c");

    registry.abandon(sharedTheFailure);

    assertThat(redis.log()).containsExactly("SUBSCRIBE " + NAME, "SUBSCRIBE " + NAME);
    assertThat(registry.listeners(NAME)).containsExactly("c");
  }

  // ---- the race of finding 7 ----

  /**
   * Finding 7 of issue 13, forced: the last listener of a name is leaving and its UNSUBSCRIBE is on
   * its way to Redis when another thread subscribes the same name. The new SUBSCRIBE must reach
   * Redis after that UNSUBSCRIBE, or Redis ends unsubscribed under a registered listener.
   */
  @Test
  void aSubscribeRacingTheLastUnsubscribeOfTheNameReachesRedisAfterIt() throws Exception {
    ForcedRace race = ForcedRace.run(Implementation.REGISTRY);

    assertThat(race.redis.log())
        .containsExactly("SUBSCRIBE " + NAME, "UNSUBSCRIBE " + NAME, "SUBSCRIBE " + NAME);
    assertThat(race.books.listeners(NAME)).containsExactly("second");
    assertThat(race.redis.subscribed(NAME)).isTrue();
  }

  /**
   * Many threads add and remove listeners of one name in tight loops. While a thread's listener is
   * registered, the name's last command must be SUBSCRIBE and the listener must be among the name's
   * listeners (a publish reaches it); a name's commands alternate SUBSCRIBE/UNSUBSCRIBE; no call
   * throws. At quiescence Redis is subscribed exactly while the name has listeners.
   */
  @Test
  void concurrentSubscribesAndUnsubscribesOfOneNameKeepRedisAndTheListenersInStep(
      TestReporter report) throws Exception {
    RedisModel redis = new RedisModel();
    Bookkeeping books = Implementation.REGISTRY.over(redis);

    Churn churn = Churn.run(books, redis, CHURN);
    report.publishEntry("churn", churn.toString());

    assertThat(churn.violations).as(churn.toString()).isEmpty();
    assertThat(churn.subscribes)
        .as("the name lost its last listener and got a first one again, often")
        .isGreaterThan(20);
    assertThat(books.listeners(NAME)).as("the one listener kept").containsExactly(churn.kept);
    assertThat(redis.subscribed(NAME)).as("Redis subscribed under the kept listener").isTrue();
    books.remove(churn.keptRegistration);
    assertThat(books.listeners(NAME)).isEmpty();
    assertThat(redis.subscribed(NAME)).as("Redis unsubscribed once no listener is left").isFalse();
    assertThat(redis.violations).isEmpty();
  }

  // ---- the tests above can fail: they catch the bookkeeping before the fix ----

  @Test
  void theForcedRaceCatchesTheBookkeepingBeforeTheFix() throws Exception {
    ForcedRace race = ForcedRace.run(Implementation.KNOWN_BROKEN_BEFORE_THE_FIX);

    assertThat(race.redis.log())
        .as("the late UNSUBSCRIBE overtook the new SUBSCRIBE")
        .containsExactly("SUBSCRIBE " + NAME, "SUBSCRIBE " + NAME, "UNSUBSCRIBE " + NAME);
    assertThat(race.books.listeners(NAME)).containsExactly("second");
    assertThat(race.redis.subscribed(NAME)).isFalse();
  }

  /**
   * The churn stops at its first violation: on the old bookkeeping, after 0.5 ms to 1.1 s in 80
   * runs.
   */
  @Test
  void theChurnCatchesTheBookkeepingBeforeTheFix(TestReporter report) throws Exception {
    RedisModel redis = new RedisModel();

    Churn churn =
        Churn.run(
            Implementation.KNOWN_BROKEN_BEFORE_THE_FIX.over(redis), redis, Duration.ofSeconds(10));
    report.publishEntry("churn", churn.toString());

    assertThat(churn.violations).as(churn.toString()).isNotEmpty();
  }

  // ---- the harness ----

  private static final Duration CHURN = Duration.ofSeconds(2);

  /** The bookkeeping under test, and the one before ccf25cd to show the harness catches it. */
  enum Implementation {
    REGISTRY {
      @Override
      Bookkeeping over(RedisModel redis) {
        TopicRegistry<Object, Long> registry = new TopicRegistry<>(redis);
        return new Bookkeeping() {
          @Override
          public Object add(String name, Object listener) {
            return registry.add(name, listener);
          }

          @Override
          @SuppressWarnings("unchecked")
          public void remove(Object registration) {
            registry.remove((TopicRegistry.Registration<Object, Long>) registration);
          }

          @Override
          public List<Object> listeners(String name) {
            return registry.listeners(name);
          }
        };
      }
    },
    KNOWN_BROKEN_BEFORE_THE_FIX {
      @Override
      Bookkeeping over(RedisModel redis) {
        return new KnownBrokenBookkeepingBeforeTheFix(redis);
      }
    };

    abstract Bookkeeping over(RedisModel redis);
  }

  /**
   * Two threads, one name: "leaving" removes the name's only listener and is held while its
   * UNSUBSCRIBE is on the way to Redis; then "joining" subscribes the name, and once it has either
   * finished or is waiting for "leaving", "leaving" goes on.
   */
  static final class ForcedRace {
    final RedisModel redis;
    final Bookkeeping books;

    private ForcedRace(RedisModel redis, Bookkeeping books) {
      this.redis = redis;
      this.books = books;
    }

    static ForcedRace run(Implementation implementation) throws Exception {
      CountDownLatch unsubscribing = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      RedisModel redis =
          new RedisModel(
              () -> {
                unsubscribing.countDown();
                awaitQuietly(release);
              });
      Bookkeeping books = implementation.over(redis);
      Object first = books.add(NAME, "first");
      Threads threads = new Threads();

      Thread leaving = threads.start("leaving", () -> books.remove(first));
      assertThat(unsubscribing.await(5, TimeUnit.SECONDS)).isTrue();
      AtomicBoolean joined = new AtomicBoolean();
      Thread joining =
          threads.start(
              "joining",
              () -> {
                books.add(NAME, "second");
                joined.set(true);
              });
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (!joined.get()
          && joining.getState() != Thread.State.BLOCKED
          && joining.getState() != Thread.State.WAITING) {
        assertThat(System.nanoTime())
            .as("joining thread neither done nor waiting")
            .isLessThan(deadline);
        Thread.yield();
      }
      release.countDown();
      leaving.join(5_000);
      joining.join(5_000);
      assertThat(threads.failures).isEmpty();
      return new ForcedRace(redis, books);
    }
  }

  /** What the race tests drive. */
  interface Bookkeeping {
    Object add(String name, Object listener);

    void remove(Object registration);

    List<Object> listeners(String name);
  }

  /**
   * KNOWN BROKEN, kept only to show the tests catch it: RedisBus's bookkeeping before ccf25cd,
   * {@code computeIfAbsent} then {@code get}, and commands issued outside any lock.
   */
  static final class KnownBrokenBookkeepingBeforeTheFix implements Bookkeeping {
    private record Registration(String name, Object listener) {}

    private final Map<String, List<Object>> registry = new ConcurrentHashMap<>();
    private final RedisModel redis;

    KnownBrokenBookkeepingBeforeTheFix(RedisModel redis) {
      this.redis = redis;
    }

    @Override
    public Object add(String name, Object listener) {
      boolean first = registry.computeIfAbsent(name, x -> new CopyOnWriteArrayList<>()).isEmpty();
      registry.get(name).add(listener);
      if (first) {
        redis.subscribe(name);
      }
      return new Registration(name, listener);
    }

    @Override
    public void remove(Object registration) {
      Registration r = (Registration) registration;
      List<Object> list = registry.get(r.name());
      if (list != null && list.remove(r.listener()) && list.isEmpty()) {
        registry.remove(r.name());
        redis.unsubscribe(r.name());
      }
    }

    @Override
    public List<Object> listeners(String name) {
      return registry.getOrDefault(name, List.of());
    }
  }

  /**
   * Redis as the subscriber connection sees it: each command in the order it is issued, and per
   * name whether it is subscribed. A SUBSCRIBE of a subscribed name or an UNSUBSCRIBE of one not
   * subscribed means the bookkeeping and Redis went out of step: a violation.
   */
  static final class RedisModel implements TopicRegistry.Commands<Long> {
    private static final int LOGGED = 64;

    /** Runs as an UNSUBSCRIBE is being issued, before Redis has it: the seam of the forced race. */
    private final Runnable beforeUnsubscribe;

    private final Map<String, Boolean> subscribed = new ConcurrentHashMap<>();
    private final List<String> log = new ArrayList<>();
    final Queue<String> violations = new ConcurrentLinkedQueue<>();
    private long sequence;
    private long subscribes;

    RedisModel() {
      this(() -> {});
    }

    RedisModel(Runnable beforeUnsubscribe) {
      this.beforeUnsubscribe = beforeUnsubscribe;
    }

    @Override
    public Long subscribe(String name) {
      inTransit();
      synchronized (this) {
        record("SUBSCRIBE " + name);
        subscribes++;
        if (Boolean.TRUE.equals(subscribed.put(name, true))) {
          violations.add("SUBSCRIBE of " + name + ", already subscribed");
        }
        return ++sequence;
      }
    }

    @Override
    public Long unsubscribe(String name) {
      beforeUnsubscribe.run();
      inTransit();
      synchronized (this) {
        record("UNSUBSCRIBE " + name);
        if (!Boolean.TRUE.equals(subscribed.put(name, false))) {
          violations.add("UNSUBSCRIBE of " + name + ", not subscribed");
        }
        return ++sequence;
      }
    }

    /**
     * A command takes microseconds to reach Redis (in the bus: a future's callbacks, then the
     * connection's write), and now and then the thread issuing it loses the processor: other
     * threads run meanwhile, as they may between a registry change and Redis.
     */
    private static void inTransit() {
      if (ThreadLocalRandom.current().nextInt(16) == 0) {
        Thread.yield();
      } else {
        for (int i = 0; i < 200; i++) {
          Thread.onSpinWait();
        }
      }
    }

    /** A SUBSCRIBE failed: Redis is not subscribed. */
    synchronized void lost(String name) {
      subscribed.put(name, false);
    }

    boolean subscribed(String name) {
      return Boolean.TRUE.equals(subscribed.get(name));
    }

    synchronized long subscribes() {
      return subscribes;
    }

    /** The first commands issued. */
    synchronized List<String> log() {
      return List.copyOf(log);
    }

    private void record(String command) {
      if (log.size() < LOGGED) {
        log.add(command);
      }
    }
  }

  /** The outcome of {@link #run}: what went wrong, how fast, and what is left registered. */
  static final class Churn {
    final List<String> violations = Collections.synchronizedList(new ArrayList<>());
    final AtomicLong registrations = new AtomicLong();
    final AtomicLong reads = new AtomicLong();
    final AtomicLong firstViolationNanos = new AtomicLong(-1);
    long subscribes;
    long begin;
    long nanos;
    int threads;
    Object kept;
    Object keptRegistration;

    private record Held(Object listener, Object registration) {}

    /**
     * Runs max(8, 4 × processors) platform threads, started together, each adding and removing its
     * own listeners of {@link #NAME} (zero to two at a time, mostly none) until {@code budget} has
     * passed or a violation is seen; then each removes its listeners, except one that the first
     * thread keeps.
     */
    static Churn run(Bookkeeping books, RedisModel redis, Duration budget) throws Exception {
      int threads = Math.max(8, 4 * Runtime.getRuntime().availableProcessors());
      Churn churn = new Churn();
      churn.threads = threads;
      AtomicBoolean stop = new AtomicBoolean();
      CyclicBarrier start = new CyclicBarrier(threads + 1);
      AtomicReference<Held> kept = new AtomicReference<>();
      Threads pool = new Threads();
      List<Thread> all = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int id = t;
        all.add(
            pool.start(
                "churn-" + t,
                () -> {
                  SplittableRandom random = new SplittableRandom(id);
                  Deque<Held> held = new ArrayDeque<>();
                  long ops = 0;
                  long reads = 0;
                  try {
                    start.await();
                    long deadline = System.nanoTime() + budget.toNanos();
                    // the clock is read every 256 operations only
                    while (!stop.get() && ((ops & 0xff) != 0 || System.nanoTime() < deadline)) {
                      if (held.isEmpty() && random.nextInt(threads) != 0) {
                        // mostly without a listener, so the name often has none and the first
                        // listener
                        // joining races the last one leaving; meanwhile a delivery reads the
                        // listeners
                        for (Object listener : books.listeners(NAME)) {
                          Objects.requireNonNull(listener);
                        }
                        reads++;
                      } else if (held.isEmpty() || held.size() == 1 && random.nextInt(4) == 0) {
                        Object listener = new Object();
                        Held h = new Held(listener, books.add(NAME, listener));
                        held.add(h);
                        churn.check(books, redis, h, "after its add", stop);
                      } else {
                        Held h = random.nextBoolean() ? held.pollFirst() : held.pollLast();
                        churn.check(books, redis, h, "before its removal", stop);
                        books.remove(h.registration());
                      }
                      ops++;
                    }
                  } catch (Throwable e) {
                    churn.violation(e.toString(), stop);
                  } finally {
                    churn.registrations.addAndGet(ops - reads);
                    churn.reads.addAndGet(reads);
                    try {
                      while (held.size() > (id == 0 ? 1 : 0)) {
                        books.remove(held.poll().registration());
                      }
                      if (id == 0 && held.isEmpty()) {
                        Object listener = new Object();
                        held.add(new Held(listener, books.add(NAME, listener)));
                      }
                    } catch (Throwable e) {
                      churn.violation("at the end: " + e, stop);
                    }
                    if (id == 0 && !held.isEmpty()) {
                      kept.set(held.peek());
                    }
                  }
                }));
      }
      churn.begin = System.nanoTime(); // the barrier publishes it to the threads
      start.await(5, TimeUnit.SECONDS);
      for (Thread t : all) {
        t.join(budget.toMillis() + 10_000);
        assertThat(t.isAlive()).as("%s finished", t.getName()).isFalse();
      }
      churn.nanos = System.nanoTime() - churn.begin;
      churn.violations.addAll(pool.failures.stream().map(Throwable::toString).toList());
      churn.subscribes = redis.subscribes();
      churn.violations.addAll(redis.violations);
      Held k = kept.get();
      if (k == null) {
        churn.violations.add("the first thread kept no listener");
      } else {
        churn.kept = k.listener();
        churn.keptRegistration = k.registration();
      }
      return churn;
    }

    private void check(
        Bookkeeping books, RedisModel redis, Held h, String when, AtomicBoolean stop) {
      if (!redis.violations.isEmpty()) {
        violation("the commands went out of step: " + redis.violations.peek(), stop);
      }
      if (!redis.subscribed(NAME)) {
        violation(
            "a listener is registered " + when + " but the name's last command was not SUBSCRIBE",
            stop);
      }
      if (!books.listeners(NAME).contains(h.listener())) {
        violation(
            "a listener is missing from its name " + when + ": a publish would not reach it", stop);
      }
    }

    private void violation(String what, AtomicBoolean stop) {
      firstViolationNanos.compareAndSet(-1, System.nanoTime() - begin);
      violations.add(what);
      stop.set(true);
    }

    @Override
    public String toString() {
      return String.format(
          "%d threads, %,d adds and removes and %,d reads of the listeners in %d ms, %,d SUBSCRIBEs, %s",
          threads,
          registrations.get(),
          reads.get(),
          TimeUnit.NANOSECONDS.toMillis(nanos),
          subscribes,
          violations.isEmpty()
              ? "no violation"
              : "first violation after "
                  + TimeUnit.NANOSECONDS.toMicros(firstViolationNanos.get())
                  + " µs: "
                  + violations.subList(0, Math.min(3, violations.size())));
    }
  }

  /** Platform threads whose uncaught failures are kept. */
  static final class Threads {
    final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();

    Thread start(String name, Runnable body) {
      Thread t = new Thread(body, name);
      t.setUncaughtExceptionHandler((x, e) -> failures.add(e));
      t.start();
      return t;
    }
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) {
        fail("never released");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
