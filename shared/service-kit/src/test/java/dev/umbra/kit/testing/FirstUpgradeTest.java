package dev.umbra.kit.testing;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class FirstUpgradeTest {

  @Test
  void onAQuietMachineTheBudgetIsAboutTwoSecondsAndAWaitOfSecondsFails() {
    Duration warm = Duration.ofMillis(4);
    assertThatCode(() -> new FirstUpgrade(Duration.ofMillis(1900), warm).assertWithinBudget("r"))
        .doesNotThrowAnyException();
    assertThatThrownBy(
            () -> new FirstUpgrade(Duration.ofMillis(2200), warm).assertWithinBudget("r"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("first upgrade 2200 ms, warm median 4 ms");
  }

  @Test
  void aLoadedMachineStretchesTheBudgetByItsWarmUpgradesButAHangStillFails() {
    Duration warm = Duration.ofMillis(100); // every upgrade 25 times slower than quietly
    assertThatCode(() -> new FirstUpgrade(Duration.ofMillis(4200), warm).assertWithinBudget("r"))
        .doesNotThrowAnyException();
    assertThatThrownBy(() -> new FirstUpgrade(Duration.ofSeconds(10), warm).assertWithinBudget("r"))
        .isInstanceOf(AssertionError.class);
  }
}
