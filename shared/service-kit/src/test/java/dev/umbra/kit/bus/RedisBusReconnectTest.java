package dev.umbra.kit.bus;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Redis connections come back by themselves: the subscriber keeps every subscription,
 * publishing resumes.
 */
@ExtendWith(VertxExtension.class)
class RedisBusReconnectTest {

  @Test
  void resubscribesAfterTheSubscriberConnectionIsKilled(Vertx vertx, VertxTestContext ctx) {
    RedisBus bus = RedisBus.create(vertx, TestRedis.url(), TestRedis.randomPrefix());
    Redis admin = Redis.createClient(vertx, TestRedis.url().toString());
    AtomicBoolean killed = new AtomicBoolean();
    bus.subscribe(
            "umbra.test.reconnect",
            m -> {
              if (killed.get() && m.body().toString().equals("after")) {
                bus.close()
                    .onComplete(
                        x -> {
                          admin.close();
                          ctx.completeNow();
                        });
              }
            })
        .compose(s -> admin.send(Request.cmd(Command.CLIENT).arg("LIST")))
        .compose(
            list -> {
              String id = null;
              for (String line : list.toString().split("\n")) {
                if (line.contains("name=" + bus.subscriberName() + " ")) {
                  id = line.replaceAll(".*\\bid=(\\d+).*", "$1").trim();
                }
              }
              assertThat(id).as("subscriber connection in CLIENT LIST").isNotNull();
              return admin.send(Request.cmd(Command.CLIENT).arg("KILL").arg("ID").arg(id));
            })
        .onComplete(
            ctx.succeeding(
                r -> {
                  killed.set(true);
                  // publish until the reconnected subscriber receives one
                  vertx.setPeriodic(
                      100, t -> bus.publish("umbra.test.reconnect", Buffer.buffer("after")));
                }));
  }

  @Test
  void losingTheSubscriberConnectionTellsTheLossListenersOnTheirContext(
      Vertx vertx, VertxTestContext ctx) {
    RedisBus bus = RedisBus.create(vertx, TestRedis.url(), TestRedis.randomPrefix());
    Redis admin = Redis.createClient(vertx, TestRedis.url().toString());
    java.util.concurrent.atomic.AtomicInteger lost =
        new java.util.concurrent.atomic.AtomicInteger();
    io.vertx.core.Context registeredOn = vertx.getOrCreateContext();
    registeredOn.runOnContext(
        v ->
            bus.onSubscriptionsLost(
                x -> {
                  ctx.verify(() -> assertThat(Vertx.currentContext()).isSameAs(registeredOn));
                  lost.incrementAndGet();
                }));
    bus.subscribe("umbra.test.lost", m -> {})
        .compose(s -> admin.send(Request.cmd(Command.CLIENT).arg("LIST")))
        .compose(
            list -> {
              assertThat(lost.get()).as("not lost while connected").isZero();
              String id = null;
              for (String line : list.toString().split("\n")) {
                if (line.contains("name=" + bus.subscriberName() + " ")) {
                  id = line.replaceAll(".*\\bid=(\\d+).*", "$1").trim();
                }
              }
              return admin.send(Request.cmd(Command.CLIENT).arg("KILL").arg("ID").arg(id));
            })
        .onComplete(
            ctx.succeeding(
                r ->
                    vertx.setPeriodic(
                        50,
                        t -> {
                          if (lost.get() == 1) {
                            vertx.cancelTimer(t);
                            bus.close()
                                .onComplete(
                                    x -> {
                                      admin.close();
                                      ctx.completeNow();
                                    });
                          }
                        })));
  }

  @Test
  void publishesAgainAfterThePublisherConnectionIsKilled(Vertx vertx, VertxTestContext ctx) {
    RedisBus bus = RedisBus.create(vertx, TestRedis.url(), TestRedis.randomPrefix());
    Redis admin = Redis.createClient(vertx, TestRedis.url().toString());
    String ch = "umbra.test.republish";
    bus.subscribe(
            ch,
            m -> {
              if (m.body().toString().equals("after")) {
                bus.close()
                    .onComplete(
                        x -> {
                          admin.close();
                          ctx.completeNow();
                        });
              }
            })
        .compose(s -> bus.publish(ch, Buffer.buffer("before")))
        .compose(n -> admin.send(Request.cmd(Command.CLIENT).arg("LIST")))
        .compose(
            list -> {
              // the publisher is the bus's unnamed connection that last ran PUBLISH
              String id = null;
              for (String line : list.toString().split("\n")) {
                if (line.contains("cmd=publish")) {
                  id = line.replaceAll(".*\\bid=(\\d+).*", "$1").trim();
                }
              }
              assertThat(id).as("publisher connection in CLIENT LIST").isNotNull();
              return admin.send(Request.cmd(Command.CLIENT).arg("KILL").arg("ID").arg(id));
            })
        .onComplete(
            ctx.succeeding(
                r ->
                    // the first publish after the kill may fail with the dead connection; later
                    // ones reconnect
                    vertx.setPeriodic(100, t -> bus.publish(ch, Buffer.buffer("after")))));
  }

  @Test
  void publishesFailFastWhileRedisIsUnreachable(Vertx vertx, VertxTestContext ctx)
      throws Exception {
    int closedPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    RedisBus bus =
        RedisBus.create(
            vertx,
            java.net.URI.create("redis://127.0.0.1:" + closedPort),
            TestRedis.randomPrefix());
    java.util.List<io.vertx.core.Future<Long>> all = new java.util.ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      all.add(bus.publish("umbra.test.down", Buffer.buffer("x")));
    }
    io.vertx.core.Future.join(all)
        .onComplete(
            x ->
                ctx.verify(
                    () -> {
                      assertThat(all).allMatch(io.vertx.core.Future::failed);
                      bus.close().onComplete(y -> ctx.completeNow());
                    }));
    assertThat(ctx.awaitCompletion(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
  }
}
