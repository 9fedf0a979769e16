package dev.umbra.client.tty;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The daemon's and the clients' failover graces from the environment, bounded. */
class FailoverGraceTest {
  @Test
  void unsetIsThirtySecondsWithoutAProblem() {
    FailoverGrace g = FailoverGrace.fromEnv(Map.of(), FailoverGrace.DAEMON);
    assertThat(g.value()).isEqualTo(Duration.ofSeconds(30));
    assertThat(g.problem()).isEmpty();
  }

  @Test
  void aValueWithinTheBoundsIsTaken() {
    assertThat(
            FailoverGrace.fromEnv(Map.of(FailoverGrace.CLIENT, "5"), FailoverGrace.CLIENT).value())
        .isEqualTo(Duration.ofSeconds(5));
    assertThat(
            FailoverGrace.fromEnv(Map.of(FailoverGrace.DAEMON, "600"), FailoverGrace.DAEMON)
                .value())
        .isEqualTo(Duration.ofSeconds(600));
  }

  @Test
  void outOfBoundsOrMalformedKeepsTheDefaultAndSaysWhyWithoutEchoingTheValue() {
    for (String raw : new String[] {"0", "601", "-1", "1e3", "forever", "99999999999999999999"}) {
      FailoverGrace g =
          FailoverGrace.fromEnv(Map.of(FailoverGrace.DAEMON, raw), FailoverGrace.DAEMON);
      assertThat(g.value()).as(raw).isEqualTo(FailoverGrace.DEFAULT);
      assertThat(g.problem())
          .as(raw)
          .hasValueSatisfying(
              p ->
                  assertThat(p)
                      .startsWith(FailoverGrace.DAEMON)
                      .contains("between 1 and 600")
                      // a value the message could hold anyway ("0", "601") is not an echo
                      .doesNotContain(raw.length() > 3 ? raw : "\u0000"));
    }
  }

  @Test
  void aClientRefusesAGraceOutsideTheBounds() {
    EngineFailover f =
        new EngineFailover(null, new TtyStats(), () -> {}, x -> {}, x -> {}, () -> {});
    f.grace(Duration.ofSeconds(1));
    f.grace(Duration.ofSeconds(600));
    for (Duration bad : new Duration[] {Duration.ZERO, Duration.ofSeconds(601), null}) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> f.grace(bad))
          .as(String.valueOf(bad))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
