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
  void optionsRefuseAGraceOutsideTheBounds() {
    TtyClient.Options o =
        new TtyClient.Options(
            java.net.URI.create("http://127.0.0.1:1"),
            java.util.UUID.randomUUID(),
            () -> io.vertx.core.Future.succeededFuture("t"),
            null,
            null,
            null,
            java.util.List.of(),
            java.time.Clock.systemUTC());
    assertThat(o.failoverGrace()).isEqualTo(FailoverGrace.DEFAULT);
    assertThat(o.withFailoverGrace(Duration.ofSeconds(3)).failoverGrace())
        .isEqualTo(Duration.ofSeconds(3));
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> o.withFailoverGrace(Duration.ofSeconds(601)))
        .isInstanceOf(IllegalArgumentException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> o.withFailoverGrace(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
