package dev.umbra.client.channel;

import io.vertx.core.Vertx;

/** {@link ChannelTimers} on Vert.x: tasks run on the context that set them. */
public record VertxTimers(Vertx vertx) implements ChannelTimers {
  @Override
  public long setTimer(long delayMs, Runnable task) {
    return vertx.setTimer(delayMs, t -> task.run());
  }

  @Override
  public long setPeriodic(long everyMs, Runnable task) {
    return vertx.setPeriodic(everyMs, everyMs, t -> task.run());
  }

  @Override
  public void cancelTimer(long id) {
    vertx.cancelTimer(id);
  }
}
