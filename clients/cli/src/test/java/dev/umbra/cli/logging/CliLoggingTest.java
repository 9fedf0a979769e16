package dev.umbra.cli.logging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.event.Level;

/**
 * The one-shot CLI's SLF4J backend: the threshold from UMBRA_LOG_LEVEL, and lines in the services'
 * shape.
 */
class CliLoggingTest {

  @Test
  void theThresholdIsUmbraLogLevelAndWarnWhenUnsetOrUnknown() {
    assertThat(CliLogging.threshold(null)).isEqualTo(Level.WARN);
    assertThat(CliLogging.threshold("debug")).isEqualTo(Level.DEBUG);
    assertThat(CliLogging.threshold(" ERROR ")).isEqualTo(Level.ERROR);
    assertThat(CliLogging.threshold("loud")).isEqualTo(Level.WARN);
    assertThat(CliLogging.threshold("off")).isNull();
  }

  @Test
  void linesAtOrAboveTheThresholdGoOutFormattedOthersNot() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Logger log =
        CliLogging.logger(
            "io.vertx.core.impl.BlockedThreadChecker",
            Level.WARN,
            new PrintStream(bytes, true, StandardCharsets.UTF_8));
    log.info("not shown {}", 1);
    log.debug("not shown");
    log.warn("blocked for {} ms, limit {}", 2552, 2000);
    log.error("failed", new IllegalStateException("boom"));
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertThat(out).doesNotContain("not shown");
    assertThat(out.lines().findFirst().orElseThrow())
        .matches(
            "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z WARN  \\[[^]]+] io\\.vertx\\.core\\.impl\\.BlockedThreadChecker - blocked for 2552 ms, limit 2000");
    assertThat(out).contains(" ERROR [", " - failed", "java.lang.IllegalStateException: boom");
    assertThat(log.isWarnEnabled()).isTrue();
    assertThat(log.isInfoEnabled()).isFalse();
    Logger silent =
        CliLogging.logger("x", null, new PrintStream(bytes, true, StandardCharsets.UTF_8));
    assertThat(silent.isErrorEnabled()).isFalse();
  }
}
