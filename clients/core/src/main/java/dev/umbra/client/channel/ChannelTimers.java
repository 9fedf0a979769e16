package dev.umbra.client.channel;

/**
 * The timers a channel needs (acknowledgement delay, resend and keepalive checks, open timeout),
 * whose tasks run on the thread the channel lives on: a Vert.x context ({@link VertxTimers}) or a
 * plain single-threaded loop ({@link ChannelLoop}). Keeps the channel layer independent of the
 * transport that carries it.
 */
public interface ChannelTimers {
  /** Runs {@code task} once after {@code delayMs}; returns an id for {@link #cancelTimer}. */
  long setTimer(long delayMs, Runnable task);

  /** Runs {@code task} every {@code everyMs}, the first time after {@code everyMs}. */
  long setPeriodic(long everyMs, Runnable task);

  void cancelTimer(long id);
}
