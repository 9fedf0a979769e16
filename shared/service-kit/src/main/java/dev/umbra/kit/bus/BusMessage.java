package dev.umbra.kit.bus;

import io.vertx.core.buffer.Buffer;

/** A message received from a pub/sub channel. */
public record BusMessage(String channel, Buffer body) {}
