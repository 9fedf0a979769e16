package dev.umbra.daemon.channel;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Acts on the relay's "trust changed" hints for one binding: refreshes the pinned trust (a blocking
 * signed fetch, off the event loop) and then re-checks the open channels ({@link
 * DaemonChannels#recheck()}). Hints are coalesced — one refresh at a time, at most one per {@link
 * #MIN_INTERVAL_MS}, a hint arriving during a refresh causes one more after it — so a relay sending
 * hints in a loop costs the control plane one request per interval, and never changes anything by
 * itself.
 *
 * <p>Confined to the binding's context: {@link #hint()} must be called on it (it is, from {@link
 * DaemonChannels#onTrustHint}).
 */
final class TrustRefresh {
  static final long MIN_INTERVAL_MS = 2_000;

  private final Vertx vertx;
  private final Clock clock;
  private final Callable<?> sync;
  private final Supplier<Future<Integer>> recheck;
  private final Consumer<String> report;

  /** A refresh is waiting for its timer: a hint now is covered by it. */
  private boolean scheduled;

  /** A refresh is fetching: it may have read before a hint's change landed, so one more follows. */
  private boolean running;

  private boolean again;
  private long lastStartMs = Long.MIN_VALUE / 2;

  /**
   * @param clock when refreshes start (the interval between two is measured on it)
   * @param sync refreshes the pin (blocking); a failure keeps the old pin and is reported
   * @param recheck then checks the open channels against the new pin; completes with how many it
   *     closed
   * @param report one line per refresh that closed channels or failed
   */
  TrustRefresh(
      Vertx vertx,
      Clock clock,
      Callable<?> sync,
      Supplier<Future<Integer>> recheck,
      Consumer<String> report) {
    this.vertx = vertx;
    this.clock = clock;
    this.sync = sync;
    this.recheck = recheck;
    this.report = report;
  }

  void hint() {
    if (running) {
      again = true;
      return;
    }
    if (scheduled) {
      return;
    }
    scheduled = true;
    long wait = lastStartMs + MIN_INTERVAL_MS - clock.millis();
    vertx.setTimer(Math.max(1, wait), t -> refresh());
  }

  private void refresh() {
    scheduled = false;
    running = true;
    lastStartMs = clock.millis();
    vertx
        .executeBlocking(sync, false)
        .compose(v -> recheck.get())
        .onComplete(
            ar -> {
              if (ar.failed()) {
                report.accept(
                    "trust refresh after the relay's hint failed, keeping the pin: "
                        + ar.cause().getMessage());
              } else if (ar.result() > 0) {
                report.accept(
                    "trust refreshed after the relay's hint; closed "
                        + ar.result()
                        + " channel(s) or session(s) of clients no longer admitted");
              }
              running = false;
              if (again) {
                again = false;
                hint();
              }
            });
  }
}
