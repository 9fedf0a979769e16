package dev.umbra.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.UmbraCli;
import dev.umbra.cli.testing.UmbraRun;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/umbra}'s command tree is the CLI's with {@code umbra dev} in it: help, suggestions and
 * usage errors know {@code dev}, and the launcher's exit code is the CLI's (docs/cli.md). Nothing
 * here starts the platform.
 */
class LauncherCommandsTest {
  @TempDir Path home;

  UmbraRun umbra(String... args) {
    return UmbraRun.of(home, Map.of(), Cli.commands(), args);
  }

  @Test
  void anUnknownCommandExitsTwoFromTheLauncherWithoutPrintingHelp() throws Exception {
    try (ChildJvm umbra =
        ChildJvm.start(
            "dev.umbra.launcher.Umbra",
            Map.of("UMBRA_HOME", home.toString()),
            "frobnicate",
            "--help")) {
      assertThat(umbra.waitForExit(60)).as(umbra.output()).isEqualTo(2);
      assertThat(umbra.output())
          .startsWith("umbra: 'frobnicate' is not an umbra command")
          .doesNotContain("Usage:");
    }
  }

  @Test
  void oneShotCommandsEndWithTheirExitCodeAndNoLoggingNoise() throws Exception {
    // Umbra.main answers --version itself and halts one-shot commands after flushing (docs/cli.md,
    // "Start-up"); their SLF4J backend is CliLogging, chosen without SLF4J saying so on stderr
    try (ChildJvm umbra =
        ChildJvm.start(
            "dev.umbra.launcher.Umbra", Map.of("UMBRA_HOME", home.toString()), "--version")) {
      assertThat(umbra.waitForExit(60)).as(umbra.output()).isZero();
      assertThat(umbra.output()).isEqualTo(UmbraCli.VERSION);
    }
    try (ChildJvm umbra =
        ChildJvm.start(
            "dev.umbra.launcher.Umbra",
            Map.of("UMBRA_HOME", home.toString()),
            "machines",
            "list")) {
      assertThat(umbra.waitForExit(60)).as(umbra.output()).isEqualTo(1);
      assertThat(umbra.output())
          .isEqualTo("umbra: not logged in: run `umbra login <control-plane-url>` first");
    }
  }

  @Test
  void theHelpOfUmbraListsDevWithTheOtherCommands() {
    UmbraRun r = umbra("--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("\n  dev ").contains("\n  workspace ").contains("\n  tty ");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void daemonComesFromTheLauncherWithItsPairAndRunCommands() {
    // the CLI does not depend on the daemon: the launcher adds `umbra daemon` to its tree
    assertThat(umbra("--help").out()).contains("\n  daemon ");
    UmbraRun help = umbra("daemon", "pair", "--help");
    assertThat(help.code()).isZero();
    assertThat(help.out()).startsWith("Usage: umbra daemon pair ").contains("<code>");
    UmbraRun missing = umbra("daemon", "pair");
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("<code>").contains("Run 'umbra daemon pair --help'");
    assertThat(umbra("daemon", "run", "--help").out())
        .startsWith("Usage: umbra daemon run ")
        .contains("--once");
  }

  @Test
  void devAnswersHelpAndRefusesArgumentsAsAUsageError() {
    UmbraRun help = umbra("dev", "--help");
    assertThat(help.code()).isZero();
    assertThat(help.out()).startsWith("Usage: umbra dev ").contains("UMBRA_*");
    UmbraRun extra = umbra("dev", "extra");
    assertThat(extra.code()).isEqualTo(2);
    assertThat(extra.out()).isEmpty();
    assertThat(extra.err()).startsWith("umbra: unexpected argument 'extra' for 'umbra dev'\n");
    assertThat(umbra("dev", "--verbose").err())
        .startsWith("umbra: unknown option '--verbose' for 'umbra dev'\n");
  }

  @Test
  void aMistypedDevIsSuggested() {
    UmbraRun r = umbra("dve");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Did you mean 'umbra dev'?");
  }
}
