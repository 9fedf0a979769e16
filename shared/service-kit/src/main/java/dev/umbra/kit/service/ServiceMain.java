package dev.umbra.kit.service;

import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.bus.RedisLiveness;
import dev.umbra.kit.config.ConfigException;
import dev.umbra.kit.config.Env;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.metrics.Metrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one service as its own process: reads and validates config (one line and exit 2 when wrong),
 * connects the Redis bus, deploys the verticle (one line and exit 1 when it fails), and on SIGTERM
 * or SIGINT drains and exits 0 within 10 s.
 */
public final class ServiceMain {
  private static final Logger log = LoggerFactory.getLogger(ServiceMain.class);
  public static final int EXIT_CONFIG = 2;
  public static final int EXIT_START = 1;
  private static final long STOP_SECONDS = 9;

  private ServiceMain() {}

  public static void run(
      ServiceName name, Function<ServiceRuntime, ? extends UmbraService> factory) {
    String prog = "umbra-" + name.id();
    ServiceConfig cfg;
    RedisLiveness liveness;
    try {
      cfg = ServiceConfig.load(name, Env.system());
      liveness = RedisLiveness.load(cfg.env());
    } catch (ConfigException e) {
      System.err.println(prog + ": configuration error: " + e.getMessage());
      System.exit(EXIT_CONFIG);
      return;
    }
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    Vertx vertx = Metrics.newVertx(registry);
    Bus bus = RedisBus.create(vertx, cfg.redisUrl(), cfg.busPrefix(), liveness, registry);
    UmbraService service = factory.apply(new ServiceRuntime(cfg, bus, registry, Clock.systemUTC()));
    java.util.concurrent.atomic.AtomicBoolean stopping =
        new java.util.concurrent.atomic.AtomicBoolean();
    Runnable shutdown =
        () -> {
          stopping.set(true);
          log.info("{} stopping", prog);
          CountDownLatch done = new CountDownLatch(1);
          // undeploy first (drains requests), then the bus while Vert.x still runs, then Vert.x
          Future.join(vertx.deploymentIDs().stream().map(vertx::undeploy).toList())
              .eventually(bus::close)
              .eventually(vertx::close)
              .onComplete(x -> done.countDown());
          boolean clean;
          try {
            clean = done.await(STOP_SECONDS, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            clean = false;
          }
          Runtime.getRuntime().halt(clean ? 0 : 1);
        };
    // registered before deploying, so a stop request during start-up is honoured too
    Signals.onTerminate(shutdown);
    CountDownLatch started = new CountDownLatch(1);
    Throwable[] failure = new Throwable[1];
    vertx
        .deployVerticle(service)
        .onComplete(
            ar -> {
              failure[0] = ar.cause();
              started.countDown();
            });
    try {
      started.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (failure[0] != null && !stopping.get()) {
      System.err.println(prog + ": failed to start: " + failure[0].getMessage());
      vertx.close();
      System.exit(EXIT_START);
      return;
    }
    if (failure[0] == null) {
      log.info(
          "{} listening on {}://{}:{} ({} transport)",
          prog,
          cfg.tls().scheme(),
          cfg.bindHost(),
          service.actualPort(),
          vertx.isNativeTransportEnabled() ? "epoll" : "nio");
    }
  }
}
