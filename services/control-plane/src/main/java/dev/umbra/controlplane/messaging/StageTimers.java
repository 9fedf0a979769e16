package dev.umbra.controlplane.messaging;

import dev.umbra.kit.metrics.Metrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Where a message's time goes inside the instances (docs/benchmarks.md, "Messaging": the
 * breakdown): {@code umbra_messaging_stage_seconds{stage}}, a histogram per stage, labelled with
 * the stage only (never an id, a principal or a payload).
 */
final class StageTimers {
  /** A stage of a send on the sending instance, or of a push on the recipient's. */
  enum Stage {
    /** Send route entered (request read and authenticated) → the send's commit answered. */
    STORED("stored"),
    /** Send route entered → the request's answer written (once a request, batch or not). */
    ANSWERED("answered"),
    /** The send's commit answered → its notice's {@code PUBLISH} answered by Redis. */
    PUBLISHED("published"),
    /** A notice received from the bus → the frame carrying its copy written to the socket. */
    PUSHED("pushed");

    final String tag;

    Stage(String tag) {
      this.tag = tag;
    }
  }

  private final Map<Stage, Timer> timers = new EnumMap<>(Stage.class);

  StageTimers(MeterRegistry registry) {
    for (Stage s : Stage.values()) {
      timers.put(
          s,
          Timer.builder(Metrics.name("messaging", "stage"))
              .description("time of a message's stage on this instance")
              .tag("stage", s.tag)
              .publishPercentileHistogram()
              .minimumExpectedValue(Duration.ofNanos(10_000))
              .maximumExpectedValue(Duration.ofSeconds(30))
              .register(registry));
    }
  }

  /** Records {@code stage} from {@code sinceNanos} ({@link System#nanoTime}) to now. */
  void since(Stage stage, long sinceNanos) {
    timers.get(stage).record(System.nanoTime() - sinceNanos, TimeUnit.NANOSECONDS);
  }
}
