package dev.umbra.kit.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link Env#boundedInt}: a whole number within its bounds, or the service stops, named. */
class EnvBoundedIntTest {
  private static int read(String raw) {
    return new Env(raw == null ? Map.of() : Map.of("UMBRA_X_SECONDS", raw))
        .boundedInt("UMBRA_X_SECONDS", 30, 1, 600);
  }

  @Test
  void unsetIsTheDefaultAndBothBoundsAreAccepted() {
    assertThat(read(null)).isEqualTo(30);
    assertThat(read("1")).isEqualTo(1);
    assertThat(read(" 600 ")).isEqualTo(600);
  }

  @Test
  void outOfBoundsOrNotAWholeNumberIsRefusedNamingTheVariableAndTheBounds() {
    for (String raw : new String[] {"0", "601", "-5", "2.5", "thirty", "99999999999"}) {
      assertThatThrownBy(() -> read(raw))
          .as(raw)
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("UMBRA_X_SECONDS:")
          .hasMessageContaining("between 1 and 600");
    }
  }
}
