package dev.umbra.kit.auth;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * When a verifier of session tokens fetches the control plane's signing keys again: for a token
 * naming a key it does not know, at most once every {@code minInterval}, one fetch shared by every
 * caller waiting. A control plane publishes a key before it signs with it, so a fetch that started
 * after a token arrived has the token's key: a token is refused as signed by an unknown key only
 * after such a fetch, never because a fetch had just been made (which refused a valid session with
 * 401 until the next one — a control-plane instance started since, or a rotation). A token naming a
 * key that does not exist waits for that fetch too (at most twice {@code minInterval}), and however
 * many arrive, the key set is fetched no more often than before.
 */
public final class KeySetFetches {
  private final Vertx vertx;
  private final Clock clock;
  private final Duration minInterval;
  private final Supplier<Future<Void>> fetch;
  private Future<Void> underWay; // guarded by this
  private Future<Void> waiting; // guarded by this: the next fetch, waiting for minInterval
  private Instant last = Instant.EPOCH; // guarded by this

  /** {@code fetch} fetches and installs the key set (a failed one keeps the keys there were). */
  public KeySetFetches(
      Vertx vertx, Clock clock, Duration minInterval, Supplier<Future<Void>> fetch) {
    this.vertx = vertx;
    this.clock = clock;
    this.minInterval = minInterval;
    this.fetch = fetch;
  }

  /** A fetch now (the warm-up at start, an operator's refresh); one under way is shared. */
  public synchronized Future<Void> now() {
    if (underWay != null) {
      return underWay;
    }
    last = clock.instant();
    Future<Void> f = fetch.get();
    underWay = f;
    f.onComplete(
        x -> {
          synchronized (this) {
            underWay = null;
          }
        });
    return f;
  }

  /**
   * Ends when a fetch that started after this call has ended, or when {@code known} says the key is
   * there after the fetch under way (which may have started before the key was published).
   */
  public Future<Void> startedAfterNow(BooleanSupplier known) {
    Future<Void> current;
    synchronized (this) {
      current = underWay;
    }
    if (current == null) {
      return next();
    }
    return current.transform(x -> known.getAsBoolean() ? Future.succeededFuture() : next());
  }

  /** The next fetch may start at once (no key yet: the warm-up found none to keep). */
  public synchronized void allowAtOnce() {
    last = Instant.EPOCH;
  }

  /**
   * A fetch that starts now or later: the one under way if one started meanwhile, the one already
   * waiting, one now if none started within {@code minInterval}, else one as soon as that allows.
   */
  private synchronized Future<Void> next() {
    if (underWay != null) {
      return underWay;
    }
    if (waiting != null) {
      return waiting;
    }
    long waitMs = Duration.between(clock.instant(), last.plus(minInterval)).toMillis();
    if (waitMs <= 0) {
      return now();
    }
    Promise<Void> fetched = Promise.promise();
    waiting = fetched.future();
    vertx.setTimer(
        Math.min(waitMs, minInterval.toMillis()), // a clock set back waits no longer than this
        t -> {
          Future<Void> f;
          synchronized (this) {
            waiting = null;
            f = now();
          }
          f.onComplete(fetched);
        });
    return waiting;
  }
}
