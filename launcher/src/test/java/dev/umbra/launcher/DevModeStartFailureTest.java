package dev.umbra.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.config.Env;
import dev.umbra.kit.config.ServiceConfig;
import dev.umbra.kit.config.ServiceName;
import java.net.BindException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A service of {@code umbra dev} that cannot bind its port says which port, which variable moves it
 * and what to do; it said "relay: bind(..) failed with error(-98): Address already in use".
 */
class DevModeStartFailureTest {
  private static final ServiceConfig RELAY =
      ServiceConfig.load(
          ServiceName.RELAY, new Env(Map.of("UMBRA_RELAY_PORT", "18081", "UMBRA_HOME", "/tmp/x")));

  @Test
  void aPortInUseNamesThePortItsVariableAndWhatToDo() {
    Exception netty =
        new IllegalStateException(
            new BindException("bind(..) failed with error(-98): Address already in use"));
    assertThat(DevMode.startFailure(RELAY, netty))
        .isEqualTo(
            "relay: port 18081 on 0.0.0.0 is already in use (another `umbra dev`, or another"
                + " program): stop it, or set UMBRA_RELAY_PORT to a free port"
                + " (docs/configuration.md)");
  }

  @Test
  void anyOtherFailureKeepsItsOwnMessage() {
    assertThat(DevMode.startFailure(RELAY, new IllegalStateException("boom")))
        .isEqualTo("relay: boom");
  }
}
