package dev.umbra.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchMachineTest {
  @TempDir Path root;

  private void stat(String cpuLine) throws IOException {
    Files.createDirectories(root.resolve("proc"));
    Files.writeString(root.resolve("proc/stat"), cpuLine + "\ncpu0 1 2 3 4 5 6 7 8 0 0\n");
  }

  @Test
  void readsStealAndTheTotalWithoutGuestTime() throws IOException {
    // user nice system idle iowait irq softirq steal guest guest_nice
    stat("cpu  100 10 50 800 20 0 5 15 40 0");
    assertThat(BenchMachine.cpuTicks(root)).containsExactly(15, 1000);
  }

  @Test
  void stealIsTheShareOfTheTicksBetweenTwoReadings() {
    assertThat(BenchMachine.steal(new long[] {15, 1000}, new long[] {115, 2000}))
        .isEqualTo("steal=10.0%");
  }

  @Test
  void anUnreadableOrOddStatSaysUnknown() throws IOException {
    assertThat(BenchMachine.cpuTicks(root)).isNull();
    stat("cpu  1 2 3");
    assertThat(BenchMachine.cpuTicks(root)).isNull();
    stat("cpu  a b c d e f g h");
    assertThat(BenchMachine.cpuTicks(root)).isNull();
    assertThat(BenchMachine.steal(null, new long[] {1, 2})).isEqualTo("steal=unknown");
    assertThat(BenchMachine.steal(new long[] {1, 2}, new long[] {1, 2})).isEqualTo("steal=unknown");
  }
}
