package dev.umbra.kit.metrics;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.time.Duration;
import java.util.UUID;

/**
 * Builds the Prometheus registry (JVM, process, Vert.x, HTTP server meters) and the Vert.x instance
 * that reports into it. Service meters are named {@code umbra_<service>_...} through {@link #name};
 * label values are envelope metadata only, never payloads or secrets.
 */
public final class Metrics {
  private Metrics() {}

  public static PrometheusMeterRegistry newRegistry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    return registry;
  }

  public static Vertx newVertx(PrometheusMeterRegistry registry) {
    return newVertx(
        registry,
        Duration.ofNanos(
            VertxOptions.DEFAULT_MAX_EVENT_LOOP_EXECUTE_TIME_UNIT.toNanos(
                VertxOptions.DEFAULT_MAX_EVENT_LOOP_EXECUTE_TIME)));
  }

  /**
   * A Vert.x whose blocked-thread checker warns only past {@code maxEventLoopExecuteTime} (the
   * default is 2 s). Dev mode loads five services, a daemon and a CLI into one cold JVM: the class
   * loading of the first seconds on the event loops is not a blocking handler.
   */
  public static Vertx newVertx(PrometheusMeterRegistry registry, Duration maxEventLoopExecuteTime) {
    // Vert.x Micrometer keeps backends in a static map by registry name and reuses the first one
    // registered under a name: a name of its own keeps each Vert.x (dev mode runs five) on its
    // registry
    VertxOptions options =
        new VertxOptions()
            .setPreferNativeTransport(true)
            .setMaxEventLoopExecuteTime(maxEventLoopExecuteTime.toNanos())
            .setMaxEventLoopExecuteTimeUnit(java.util.concurrent.TimeUnit.NANOSECONDS)
            .setMetricsOptions(
                new MicrometerMetricsOptions()
                    .setEnabled(true)
                    .setRegistryName("umbra-" + UUID.randomUUID()));
    return Vertx.builder()
        .with(options)
        .withMetrics(new GuardedMetricsFactory(new MicrometerMetricsFactory(registry)))
        .build();
  }

  /** {@code umbra.<service>.<what>}, which Prometheus shows as {@code umbra_<service>_<what>}. */
  public static String name(String service, String what) {
    return "umbra." + service.replace('-', '_') + "." + what;
  }
}
