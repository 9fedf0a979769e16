package dev.umbra.kit.testing;

import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.config.Env;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.service.ServiceRuntime;
import dev.umbra.kit.service.UmbraService;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/** Starts real services on ephemeral ports against a test database and bus. */
public final class TestServices {
  private TestServices() {}

  /** Config for {@code service} on port 0 with the given database, Redis and extra env. */
  public static ServiceConfig config(
      ServiceName service,
      TestPostgres pg,
      String busPrefix,
      Path home,
      Map<String, String> extraEnv) {
    Map<String, String> env = new HashMap<>();
    if (pg != null) {
      env.put("UMBRA_PG_URL", pg.url().toString());
    }
    env.put("UMBRA_REDIS_URL", TestRedis.url().toString());
    env.put("UMBRA_BUS_PREFIX", busPrefix);
    env.put("UMBRA_BIND_HOST", "127.0.0.1");
    env.put("UMBRA_HOME", home.toString());
    env.put(service.envPrefix() + "PORT", "0");
    env.putAll(extraEnv);
    return ServiceConfig.load(service, new Env(env));
  }

  /**
   * A service in its own JVM on this test's classpath ({@code destroyForcibly()} is a real
   * SIGKILL): {@code main} with the test's database, Redis and bus prefix on 127.0.0.1, plus {@code
   * env}; stdout and stderr go to {@code log}.
   */
  public static ProcessBuilder childJvm(
      Class<?> main, Path log, TestPostgres pg, String busPrefix, Map<String, String> env) {
    ProcessBuilder pb =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                main.getName())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    Map<String, String> childEnv = pb.environment();
    childEnv.put("UMBRA_PG_URL", pg.url().toString());
    childEnv.put("UMBRA_REDIS_URL", TestRedis.url().toString());
    childEnv.put("UMBRA_BUS_PREFIX", busPrefix);
    childEnv.put("UMBRA_BIND_HOST", "127.0.0.1");
    childEnv.putAll(env);
    return pb;
  }

  /** Deploys the service; the future completes with the running verticle (see actualPort()). */
  public static <S extends UmbraService> Future<S> deploy(
      Vertx vertx,
      ServiceConfig config,
      Bus bus,
      PrometheusMeterRegistry registry,
      Clock clock,
      Function<ServiceRuntime, S> factory) {
    S service = factory.apply(new ServiceRuntime(config, bus, registry, clock));
    return vertx.deployVerticle(service).map(id -> service);
  }

  /** Every port {@link #portForAChildProcess} gave in this JVM (the kernel may offer one again). */
  private static final java.util.Set<Integer> GIVEN =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * A port free a moment ago, for a child process that takes its port from the environment and so
   * must be told it before it starts: reserve, close, reuse (another process may take it in
   * between). In-process servers bind port 0 and are asked for theirs instead. Never one this JVM
   * gave before: a port just closed is free again, and the kernel may hand it out twice in a row
   * (two services of one `umbra dev` got 41331 and shared its listener, CI 2026-12-06).
   */
  public static int portForAChildProcess() {
    for (int attempt = 0; attempt < 1_000; attempt++) {
      int port = RedisProcesses.freePort(0);
      if (GIVEN.add(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no port this JVM has not given already");
  }
}
