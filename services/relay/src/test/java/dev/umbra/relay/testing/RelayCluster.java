package dev.umbra.relay.testing;

import dev.umbra.kit.bus.RedisBus;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.testing.TestRedis;
import dev.umbra.kit.testing.TestServices;
import dev.umbra.relay.RelayService;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Relay instances on ephemeral ports sharing the real Redis (one bus prefix per cluster), each with
 * its own bus connection and metrics registry, as separate processes would have. Blocking helpers:
 * call from the test thread, never from an event loop.
 */
public final class RelayCluster implements AutoCloseable {
  public record Instance(RelayService service, RedisBus bus, String deploymentId) {
    public URI url() {
      return URI.create("ws://127.0.0.1:" + service.actualPort() + "/v1/relay");
    }
  }

  private final Vertx vertx;
  private final TestTokens tokens;
  private final String prefix = TestRedis.randomPrefix();
  private final Path home;
  private final Map<String, String> env;
  private final List<Instance> instances = new ArrayList<>();

  public RelayCluster(Vertx vertx, TestTokens tokens, Path home, Map<String, String> extraEnv) {
    this.vertx = vertx;
    this.tokens = tokens;
    this.home = home;
    this.env = new HashMap<>(extraEnv);
    env.put("UMBRA_CONTROL_PLANE_URL", tokens.controlPlaneUrl().toString());
  }

  public String busPrefix() {
    return prefix;
  }

  public Instance start() {
    ServiceConfig cfg = TestServices.config(ServiceName.RELAY, null, prefix, home, env);
    RedisBus bus = RedisBus.create(vertx, TestRedis.url(), prefix);
    RelayService svc =
        await(
            TestServices.deploy(
                vertx, cfg, bus, Metrics.newRegistry(), Clock.systemUTC(), RelayService::new));
    String id = svc.deploymentID();
    Instance i = new Instance(svc, bus, id);
    instances.add(i);
    return i;
  }

  /** Undeploys an instance (its connections close), as a killed relay process would. */
  public void kill(Instance i) {
    await(vertx.undeploy(i.deploymentId()).eventually(() -> i.bus().close()));
    instances.remove(i);
  }

  public List<Instance> instances() {
    return List.copyOf(instances);
  }

  public static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    for (Instance i : new ArrayList<>(instances)) {
      try {
        kill(i);
      } catch (RuntimeException e) {
        // already gone
      }
    }
  }
}
