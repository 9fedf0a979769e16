package dev.umbra.kit.http;

import io.vertx.core.Future;
import java.util.function.Supplier;

/** One dependency checked by {@code GET /healthz}, e.g. {@code postgres} or {@code redis}. */
public record HealthCheck(String name, Supplier<Future<Void>> probe) {}
