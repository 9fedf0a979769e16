package dev.umbra.kit.testing;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

/**
 * Waiting for something that happens on another thread, without fixed sleeps: polls a condition
 * every few milliseconds until it holds or a deadline passes, then fails with what it last saw. A
 * fixed sleep is either too short on a loaded machine (a flaky test) or too long everywhere (a slow
 * one); a deadline is only reached when the test fails anyway.
 */
public final class Eventually {
  /** How often the condition is asked; short against every deadline tests use. */
  static final Duration POLL = Duration.ofMillis(10);

  private Eventually() {}

  /** Waits until {@code condition} holds; fails after {@code within}, naming {@code what}. */
  public static void await(String what, Duration within, Callable<Boolean> condition) {
    until(what, within, condition, Boolean.TRUE::equals);
  }

  /**
   * Whether {@code condition} holds within {@code within}, polled as {@link #await} does, for
   * callers that assert either answer (a condition that throws counts as not holding yet).
   */
  public static boolean holdsWithin(Duration within, Callable<Boolean> condition) {
    try {
      await("condition", within, condition);
      return true;
    } catch (AssertionError notWithin) {
      return false;
    }
  }

  /**
   * Asserts that {@code condition} holds at every poll for the whole of {@code window} and fails at
   * the first poll where it does not. For absence checks ("no event of the other workspace
   * arrives"), where the elapsed window is the point of the test: a fixed sleep followed by one
   * look would wait as long but notice a violation only at the end.
   */
  public static void holdsThroughout(String what, Duration window, Callable<Boolean> condition) {
    long end = System.nanoTime() + window.toNanos();
    while (true) {
      boolean holds;
      try {
        holds = Boolean.TRUE.equals(condition.call());
      } catch (Exception e) {
        throw new AssertionError("no longer holds: " + what, e);
      }
      if (!holds) {
        throw new AssertionError("no longer holds within " + window.toMillis() + " ms: " + what);
      }
      if (System.nanoTime() - end >= 0) {
        return;
      }
      pause(what);
    }
  }

  /**
   * Asks {@code probe} until its answer satisfies {@code done} and returns that answer; fails after
   * {@code within} with the last answer (a probe that throws counts as not done yet, and its last
   * exception is the failure's cause).
   */
  public static <T> T until(
      String what, Duration within, Callable<T> probe, Predicate<? super T> done) {
    return until(what, within, POLL, probe, done);
  }

  /**
   * As {@link #until(String, Duration, Callable, Predicate)}, asking {@code probe} at most once
   * every {@code every}: for a probe that costs what the system under test limits, e.g. a CLI run
   * that opens a relay connection, where the relay allows 20 new connections a second per address —
   * polled every 10 ms, the probe would use them up and starve the clients under test.
   */
  public static <T> T until(
      String what, Duration within, Duration every, Callable<T> probe, Predicate<? super T> done) {
    long deadline = System.nanoTime() + within.toNanos();
    T last = null;
    Exception lastFailure = null;
    while (true) {
      try {
        last = probe.call();
        lastFailure = null;
        if (done.test(last)) {
          return last;
        }
      } catch (Exception e) {
        lastFailure = e;
      }
      if (System.nanoTime() - deadline >= 0) {
        AssertionError failure =
            new AssertionError(
                "not within " + within.toMillis() + " ms: " + what + " (last seen: " + last + ")");
        if (lastFailure != null) {
          failure.initCause(lastFailure);
        }
        throw failure;
      }
      pause(what, every);
    }
  }

  /** The poll interval: the one fixed sleep the tests keep (tests/architecture FixedSleepsTest). */
  private static void pause(String what) {
    pause(what, POLL);
  }

  private static void pause(String what, Duration every) {
    try {
      Thread.sleep(every);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting: " + what, e);
    }
  }
}
