package dev.umbra.kit.service;

import dev.umbra.kit.audit.AuditEmitter;
import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.config.ServiceConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;

/**
 * What a service verticle is given by whoever starts it (its Main, dev mode or a test): config, the
 * bus (owned by the starter, shared in dev mode), the metrics registry and the clock.
 */
public record ServiceRuntime(
    ServiceConfig config, Bus bus, PrometheusMeterRegistry registry, Clock clock) {

  public AuditEmitter audit() {
    return new AuditEmitter(bus, config.service().id(), clock, registry);
  }
}
