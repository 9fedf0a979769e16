package dev.umbra.kit.bus;

import io.vertx.core.buffer.Buffer;

/** One entry of a durable stream; {@code deliveries} counts how often it was handed out. */
public record StreamEntry(String id, Buffer body, long deliveries) {}
