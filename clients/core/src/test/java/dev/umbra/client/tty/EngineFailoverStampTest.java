package dev.umbra.client.tty;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The stamp on a failover re-join (docs/webtty.md "A late attempt"): the home refuses a re-join not
 * newer than the connection that got in, so every attempt of a client must carry a higher stamp
 * than the one before, whatever its clock says.
 */
class EngineFailoverStampTest {

  @Test
  void everyAttemptIsStampedAboveTheOneBeforeEvenWhenTheClockStandsStillOrStepsBack() {
    EngineFailover f =
        new EngineFailover(null, new TtyStats(), () -> {}, x -> {}, x -> {}, () -> {});

    assertThat(f.stamp(1_000)).isEqualTo(1_000);
    assertThat(f.stamp(1_000)).as("the same millisecond").isEqualTo(1_001);
    assertThat(f.stamp(900)).as("the clock stepped back").isEqualTo(1_002);
    assertThat(f.stamp(5_000)).as("the clock again").isEqualTo(5_000);
  }
}
