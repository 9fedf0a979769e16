package dev.umbra.kit.http;

import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.metrics.Metrics;
import dev.umbra.kit.testing.Futures;
import dev.umbra.kit.testing.TestServices;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A minimal service on {@code bus} whose {@code /healthz} is polled every 100 ms, each answer kept
 * (its body with {@code http_status} added), for tests of what an operator's probe sees during a
 * fault.
 */
final class HealthzPoller implements AutoCloseable {
  private final Vertx vertx;
  private final long timer;
  private final WebClient http;
  final List<JsonObject> seen = new CopyOnWriteArrayList<>();

  private HealthzPoller(Vertx vertx, int port) {
    this.vertx = vertx;
    this.http = WebClient.create(vertx);
    this.timer =
        vertx.setPeriodic(
            100,
            t ->
                http.get(port, "127.0.0.1", "/healthz")
                    .send()
                    .onSuccess(
                        r -> seen.add(r.bodyAsJsonObject().put("http_status", r.statusCode()))));
  }

  static HealthzPoller start(Vertx vertx, ServiceConfig cfg, Bus bus, Duration within)
      throws Exception {
    HealthEndpointTest.Minimal service =
        Futures.await(
            TestServices.deploy(
                vertx,
                cfg,
                bus,
                Metrics.newRegistry(),
                Clock.systemUTC(),
                HealthEndpointTest.Minimal::new),
            within);
    return new HealthzPoller(vertx, service.actualPort());
  }

  /** The last answer's HTTP status, 0 before the first. */
  int lastStatus() {
    return seen.isEmpty() ? 0 : last().getInteger("http_status");
  }

  JsonObject last() {
    return seen.get(seen.size() - 1);
  }

  @Override
  public void close() {
    vertx.cancelTimer(timer);
    http.close();
  }
}
