package dev.umbra.kit.bus;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The contract every {@link Bus} implementation meets; subclasses supply the implementation. */
@ExtendWith(VertxExtension.class)
abstract class BusContract {

  protected Bus bus;
  private String unique;

  protected abstract Bus newBus(Vertx vertx);

  /**
   * Whether the bus offers pattern subscriptions; on a Redis Cluster it does not (sharded pub/sub
   * has no patterns) and refuses them.
   */
  protected boolean offersPatterns() {
    return true;
  }

  @BeforeEach
  void setUp(Vertx vertx) {
    bus = newBus(vertx);
    unique = UUID.randomUUID().toString().substring(0, 8);
  }

  @AfterEach
  void tearDown(VertxTestContext ctx) {
    bus.close().onComplete(ctx.succeedingThenComplete());
  }

  private String name(String what) {
    return "umbra.test." + unique + "." + what;
  }

  @Test
  void deliversPublishedMessageToEverySubscriber(Vertx vertx, VertxTestContext ctx) {
    String ch = name("fanout");
    List<String> got = new CopyOnWriteArrayList<>();
    var checkpoint = ctx.checkpoint(2);
    Future.all(
            bus.subscribe(
                ch,
                m -> {
                  got.add("a:" + m.body());
                  checkpoint.flag();
                }),
            bus.subscribe(
                ch,
                m -> {
                  got.add("b:" + m.body());
                  checkpoint.flag();
                }))
        .compose(v -> bus.publish(ch, Buffer.buffer("hello")))
        .onComplete(ctx.succeeding(n -> ctx.verify(() -> assertThat(n).isPositive())));
  }

  @Test
  void rangeReadsTheEntriesAfterAnIdWithoutAConsumerGroup(VertxTestContext ctx) {
    String stream = name("range");
    bus.range(stream, "0-0", 10)
        .compose(
            none -> {
              ctx.verify(() -> assertThat(none).as("an absent stream has no entries").isEmpty());
              return bus.append(stream, Buffer.buffer("one"), 100);
            })
        .compose(
            first ->
                bus.append(stream, Buffer.buffer("two"), 100)
                    .compose(second -> bus.append(stream, Buffer.buffer("three"), 100))
                    .compose(
                        third ->
                            bus.range(stream, "0-0", 10)
                                .compose(
                                    all -> {
                                      ctx.verify(
                                          () ->
                                              assertThat(all)
                                                  .extracting(e -> e.body().toString())
                                                  .containsExactly("one", "two", "three"));
                                      return bus.range(stream, first, 1);
                                    })))
        .compose(
            afterFirst -> {
              ctx.verify(
                  () ->
                      assertThat(afterFirst)
                          .extracting(e -> e.body().toString())
                          .containsExactly("two"));
              return bus.range(stream, "not-an-id", 1);
            })
        .onComplete(ctx.failing(e -> ctx.completeNow()));
  }

  @Test
  void keepsBinaryBodiesIntact(VertxTestContext ctx) {
    String ch = name("binary");
    byte[] raw = new byte[256];
    for (int i = 0; i < raw.length; i++) {
      raw[i] = (byte) i;
    }
    bus.subscribe(
            ch,
            m ->
                ctx.verify(
                    () -> {
                      assertThat(m.channel()).isEqualTo(ch);
                      assertThat(m.body().getBytes()).isEqualTo(raw);
                      ctx.completeNow();
                    }))
        .compose(s -> bus.publish(ch, Buffer.buffer(raw)))
        .onFailure(ctx::failNow);
  }

  @Test
  void deliversPublishesFromOneContextInTheOrderTheyWereMade(Vertx vertx, VertxTestContext ctx) {
    String ch = name("order");
    int count = 2_000;
    List<Integer> got = new ArrayList<>();
    vertx.runOnContext(
        x ->
            bus.subscribe(
                    ch,
                    m -> {
                      got.add(m.body().getInt(0));
                      if (got.size() == count) {
                        ctx.verify(
                            () -> {
                              for (int i = 0; i < count; i++) {
                                assertThat(got.get(i)).as("message %d", i).isEqualTo(i);
                              }
                              ctx.completeNow();
                            });
                      }
                    })
                .onComplete(
                    ctx.succeeding(
                        s -> {
                          // all at once: no publish waits for the one before it
                          for (int i = 0; i < count; i++) {
                            bus.publish(ch, Buffer.buffer().appendInt(i)).onFailure(ctx::failNow);
                          }
                        })));
  }

  @Test
  void patternSubscriptionReceivesMatchingChannelsOnly(VertxTestContext ctx) {
    if (!offersPatterns()) {
      bus.subscribePattern(name("audit.*"), m -> {})
          .onComplete(
              ctx.failing(
                  e ->
                      ctx.verify(
                          () -> {
                            assertThat(e)
                                .isInstanceOf(BusException.class)
                                .hasMessageContaining("Cluster");
                            ctx.completeNow();
                          })));
      return;
    }
    List<String> channels = new CopyOnWriteArrayList<>();
    bus.subscribePattern(
            name("audit.*"),
            m -> {
              channels.add(m.channel());
              if (m.channel().endsWith("last")) {
                ctx.verify(
                    () -> {
                      assertThat(channels).containsExactly(name("audit.ws1"), name("audit.last"));
                      ctx.completeNow();
                    });
              }
            })
        .compose(s -> bus.publish(name("audit.ws1"), Buffer.buffer("1")))
        .compose(n -> bus.publish(name("other.ws1"), Buffer.buffer("2")))
        .compose(n -> bus.publish(name("audit.last"), Buffer.buffer("3")))
        .onFailure(ctx::failNow);
  }

  @Test
  void unsubscribedHandlerReceivesNothing(Vertx vertx, VertxTestContext ctx) {
    String ch = name("unsub");
    List<String> got = new CopyOnWriteArrayList<>();
    // both handlers on one context: a message reaches a channel's handlers in the order they
    // subscribed, so when the later one has "late" the unsubscribed one would have had it already
    // (a witness instead of a fixed wait for nothing to arrive)
    Context c = vertx.getOrCreateContext();
    c.runOnContext(
        x ->
            bus.subscribe(ch, m -> got.add(m.body().toString()))
                .compose(Subscription::unsubscribe)
                .onComplete(
                    ctx.succeeding(
                        unsubscribed ->
                            c.runOnContext(
                                y ->
                                    bus.subscribe(
                                            ch,
                                            m ->
                                                ctx.verify(
                                                    () -> {
                                                      assertThat(m.body().toString())
                                                          .isEqualTo("late");
                                                      assertThat(got).isEmpty();
                                                      ctx.completeNow();
                                                    }))
                                        .compose(s -> bus.publish(ch, Buffer.buffer("late")))
                                        .onFailure(ctx::failNow)))));
  }

  @Test
  void rejectsNamesOutsideTheUmbraNamespace(VertxTestContext ctx) {
    bus.publish("other.channel", Buffer.buffer("x"))
        .onComplete(
            ctx.failing(
                e ->
                    ctx.verify(
                        () -> {
                          assertThat(e)
                              .isInstanceOf(IllegalArgumentException.class)
                              .hasMessageContaining("umbra.");
                          ctx.completeNow();
                        })));
  }

  @Test
  void groupReadsOnlyEntriesAppendedAfterGroupCreation(VertxTestContext ctx) {
    String s = name("stream.new");
    bus.append(s, Buffer.buffer("before"), 1000)
        .compose(id -> bus.ensureGroup(s, "g"))
        .compose(v -> bus.ensureGroup(s, "g")) // idempotent
        .compose(v -> bus.append(s, Buffer.buffer("after"), 1000))
        .compose(id -> bus.readGroup(s, "g", "c1", 10, Duration.ZERO))
        .onComplete(
            ctx.succeeding(
                entries ->
                    ctx.verify(
                        () -> {
                          assertThat(entries)
                              .extracting(e -> e.body().toString())
                              .containsExactly("after");
                          ctx.completeNow();
                        })));
  }

  @Test
  void deliversEachEntryToOneConsumerOfTheGroupInOrder(VertxTestContext ctx) {
    String s = name("stream.order");
    Future<Void> appended = bus.ensureGroup(s, "g");
    for (int i = 0; i < 5; i++) {
      int n = i;
      appended = appended.compose(v -> bus.append(s, Buffer.buffer("e" + n), 1000)).mapEmpty();
    }
    appended
        .compose(v -> bus.readGroup(s, "g", "c1", 3, Duration.ZERO))
        .compose(
            first ->
                bus.readGroup(s, "g", "c2", 10, Duration.ZERO)
                    .map(second -> List.of(first, second)))
        .onComplete(
            ctx.succeeding(
                both ->
                    ctx.verify(
                        () -> {
                          assertThat(both.get(0))
                              .extracting(e -> e.body().toString())
                              .containsExactly("e0", "e1", "e2");
                          assertThat(both.get(1))
                              .extracting(e -> e.body().toString())
                              .containsExactly("e3", "e4");
                          ctx.completeNow();
                        })));
  }

  @Test
  void blockingReadWakesWhenAnEntryArrives(Vertx vertx, VertxTestContext ctx) {
    String s = name("stream.block");
    bus.ensureGroup(s, "g")
        .onComplete(
            ctx.succeeding(
                v -> {
                  long start = System.nanoTime();
                  bus.readGroup(s, "g", "c1", 10, Duration.ofSeconds(5))
                      .onComplete(
                          ctx.succeeding(
                              entries ->
                                  ctx.verify(
                                      () -> {
                                        assertThat(entries).hasSize(1);
                                        assertThat(System.nanoTime() - start)
                                            .isLessThan(TimeUnit.SECONDS.toNanos(4));
                                        ctx.completeNow();
                                      })));
                  vertx.setTimer(300, t -> bus.append(s, Buffer.buffer("wake"), 1000));
                }));
  }

  @Test
  void blockingReadReturnsEmptyAfterTimeout(VertxTestContext ctx) {
    String s = name("stream.timeout");
    bus.ensureGroup(s, "g")
        .compose(v -> bus.readGroup(s, "g", "c1", 10, Duration.ofMillis(200)))
        .onComplete(
            ctx.succeeding(
                entries ->
                    ctx.verify(
                        () -> {
                          assertThat(entries).isEmpty();
                          ctx.completeNow();
                        })));
  }

  @Test
  void unacknowledgedEntriesAreRedeliveredToAnotherConsumer(Vertx vertx, VertxTestContext ctx) {
    String s = name("stream.pending");
    bus.ensureGroup(s, "g")
        .compose(v -> bus.append(s, Buffer.buffer("a"), 1000))
        .compose(v -> bus.append(s, Buffer.buffer("b"), 1000))
        .compose(v -> bus.readGroup(s, "g", "crashed", 10, Duration.ZERO))
        .compose(read -> bus.ack(s, "g", List.of(read.get(0).id())).map(read))
        .compose(read -> bus.claimPending(s, "g", "rescuer", Duration.ZERO, 10))
        .compose(
            claimed ->
                bus.claimPending(s, "g", "rescuer", Duration.ofHours(1), 10)
                    .map(again -> List.of(claimed, again)))
        .onComplete(
            ctx.succeeding(
                r ->
                    ctx.verify(
                        () -> {
                          assertThat(r.get(0))
                              .extracting(e -> e.body().toString())
                              .containsExactly("b");
                          assertThat(r.get(0).get(0).deliveries()).isEqualTo(2L);
                          assertThat(r.get(1)).as("freshly claimed entries are not idle").isEmpty();
                          ctx.completeNow();
                        })));
  }

  @Test
  void acknowledgedEntriesAreNeverRedelivered(VertxTestContext ctx) {
    String s = name("stream.acked");
    bus.ensureGroup(s, "g")
        .compose(v -> bus.append(s, Buffer.buffer("x"), 1000))
        .compose(v -> bus.readGroup(s, "g", "c1", 10, Duration.ZERO))
        .compose(read -> bus.ack(s, "g", read.stream().map(StreamEntry::id).toList()))
        .compose(n -> bus.claimPending(s, "g", "c2", Duration.ZERO, 10))
        .compose(
            claimed ->
                bus.readGroup(s, "g", "c2", 10, Duration.ZERO)
                    .map(
                        more -> {
                          List<StreamEntry> all = new ArrayList<>(claimed);
                          all.addAll(more);
                          return all;
                        }))
        .onComplete(
            ctx.succeeding(
                all ->
                    ctx.verify(
                        () -> {
                          assertThat(all).isEmpty();
                          ctx.completeNow();
                        })));
  }

  @Test
  void readingAnUnknownGroupFails(VertxTestContext ctx) {
    bus.append(name("stream.nogroup"), Buffer.buffer("x"), 1000)
        .compose(id -> bus.readGroup(name("stream.nogroup"), "missing", "c", 1, Duration.ZERO))
        .onComplete(
            ctx.failing(
                e ->
                    ctx.verify(
                        () -> {
                          assertThat(e.getMessage()).contains("NOGROUP");
                          ctx.completeNow();
                        })));
  }

  @Test
  void pingSucceedsWhileOpenAndFailsAfterClose(VertxTestContext ctx) {
    bus.ping()
        .compose(v -> bus.close())
        .compose(v -> bus.ping())
        .onComplete(ctx.failing(e -> ctx.completeNow()));
  }

  /**
   * Several contexts subscribe to and unsubscribe from one channel as fast as they can; every
   * subscribe must succeed and then deliver a message published after it (a subscribe racing
   * another context's unsubscribe once threw, or was left with Redis unsubscribed).
   */
  @Test
  void everySubscribeSucceedsAndDeliversWhileOtherContextsChurnTheSameChannel(
      Vertx vertx, VertxTestContext ctx) {
    String ch = name("churn");
    int contexts = 8;
    int rounds = 30;
    java.util.concurrent.atomic.AtomicInteger delivered =
        new java.util.concurrent.atomic.AtomicInteger();
    List<Future<String>> all = new ArrayList<>();
    for (int i = 0; i < contexts; i++) {
      String who = "c" + i;
      all.add(
          vertx.deployVerticle(
              new io.vertx.core.VerticleBase() {
                @Override
                public Future<?> start() {
                  return churn(ch, who, 0, rounds, delivered);
                }
              }));
    }
    Future.all(all)
        .onComplete(
            ctx.succeeding(
                v ->
                    ctx.verify(
                        () -> {
                          assertThat(delivered.get()).isEqualTo(contexts * rounds);
                          ctx.completeNow();
                        })));
  }

  /**
   * Vert.x contexts and plain threads subscribe to and unsubscribe from one channel at once, so the
   * channel keeps losing its last subscriber while another joins, and each ends by staying
   * subscribed. Every subscriber left receives a publish (the bus is really subscribed, not only
   * registered), and once they have left, a publish reaches no one (nothing stays subscribed).
   * Finding 7 of issue 13; {@code TopicRegistryTest} forces the race itself.
   */
  @Test
  void
      subscribersLeftAfterContextsAndThreadsChurnedTheChannelReceiveAndNothingStaysSubscribedAfterThem(
          Vertx vertx, VertxTestContext ctx) throws Exception {
    String ch = name("churn.mixed");
    String marker = "after the churn";
    int churners = 4;
    int pairs = 100;
    List<Promise<Void>> heard = new ArrayList<>();
    List<CompletableFuture<Subscription>> staying = new ArrayList<>();
    for (int i = 0; i < 2 * churners; i++) {
      Promise<Void> p = Promise.promise();
      heard.add(p);
      CompletableFuture<Subscription> stays = new CompletableFuture<>();
      staying.add(stays);
      if (i < churners) {
        vertx.deployVerticle(
            new io.vertx.core.VerticleBase() {
              @Override
              public Future<?> start() {
                return quickPairs(ch, pairs)
                    .compose(v -> bus.subscribe(ch, m -> hears(m, marker, p)))
                    .onSuccess(stays::complete)
                    .onFailure(stays::completeExceptionally);
              }
            });
      } else {
        Thread.ofPlatform()
            .name("churn-" + i)
            .start(
                () -> {
                  try {
                    for (int n = 0; n < pairs; n++) {
                      await(bus.subscribe(ch, m -> {}).compose(Subscription::unsubscribe));
                    }
                    stays.complete(await(bus.subscribe(ch, m -> hears(m, marker, p))));
                  } catch (RuntimeException e) {
                    stays.completeExceptionally(e);
                  }
                });
      }
    }
    List<Subscription> left = new ArrayList<>();
    for (CompletableFuture<Subscription> s : staying) {
      left.add(s.get(60, TimeUnit.SECONDS));
    }

    assertThat(await(bus.publish(ch, Buffer.buffer(marker)))).isPositive();
    await(Future.all(heard.stream().map(Promise::future).toList()).timeout(10, TimeUnit.SECONDS));
    await(Future.all(left.stream().map(Subscription::unsubscribe).toList()));
    assertThat(await(bus.publish(ch, Buffer.buffer("nobody left"))))
        .as("receivers of a publish after every subscriber left")
        .isZero();
    ctx.completeNow();
  }

  @Test
  void expiringKeysHoldTheirValueUntilTheTtlAndAreDeletedOnlyByTheirHolder() {
    String key = name("presence.{w}.t");
    assertThat(await(bus.get(key))).as("absent").isNull();
    await(bus.putExpiring(key, "instance-a", Duration.ofSeconds(30)));
    assertThat(await(bus.get(key))).isEqualTo("instance-a");
    // a newer holder overwrites; the older one's delete then leaves it alone
    await(bus.putExpiring(key, "instance-b", Duration.ofSeconds(30)));
    assertThat(await(bus.deleteIfHolds(key, "instance-a"))).isFalse();
    assertThat(await(bus.get(key))).isEqualTo("instance-b");
    assertThat(await(bus.deleteIfHolds(key, "instance-b"))).isTrue();
    assertThat(await(bus.get(key))).isNull();
    assertThat(await(bus.deleteIfHolds(key, "instance-b"))).as("already gone").isFalse();
    // a short TTL: gone once it passed
    await(bus.putExpiring(key, "brief", Duration.ofMillis(50)));
    dev.umbra.kit.testing.Eventually.await(
        "the key expired", Duration.ofSeconds(5), () -> await(bus.get(key)) == null);
    assertThat(bus.putExpiring("not-umbra", "x", Duration.ofSeconds(1)).failed()).isTrue();
  }

  private static void hears(BusMessage m, String marker, Promise<Void> heard) {
    if (m.body().toString().equals(marker)) {
      heard.tryComplete();
    }
  }

  /** Waits on a test or plain thread, never on an event loop. */
  private static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(e);
    }
  }

  private Future<Void> churn(
      String ch,
      String who,
      int round,
      int rounds,
      java.util.concurrent.atomic.AtomicInteger delivered) {
    if (round == rounds) {
      return Future.succeededFuture();
    }
    String marker = who + ":" + round;
    io.vertx.core.Promise<Void> seen = io.vertx.core.Promise.promise();
    return quickPairs(ch, 100)
        .compose(
            x ->
                bus.subscribe(
                        ch,
                        m -> {
                          if (m.body().toString().equals(marker)) {
                            seen.tryComplete();
                          }
                        })
                    .compose(
                        sub ->
                            bus.publish(ch, Buffer.buffer(marker))
                                .compose(n -> seen.future().timeout(5, TimeUnit.SECONDS))
                                .onSuccess(v -> delivered.incrementAndGet())
                                .compose(v -> sub.unsubscribe())))
        .compose(v -> churn(ch, who, round + 1, rounds, delivered));
  }

  /** Subscribes and at once unsubscribes {@code n} times, each subscribe having to succeed. */
  private Future<Void> quickPairs(String ch, int n) {
    if (n == 0) {
      return Future.succeededFuture();
    }
    return bus.subscribe(ch, m -> {})
        .compose(Subscription::unsubscribe)
        .compose(v -> quickPairs(ch, n - 1));
  }
}
