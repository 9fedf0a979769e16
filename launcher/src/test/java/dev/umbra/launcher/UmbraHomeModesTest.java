package dev.umbra.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every directory under UMBRA_HOME is 0700 and every file 0600 (finding 10: {@code dev} was 0755
 * around the 0600 bootstrap token), and directories are made in one place only.
 */
class UmbraHomeModesTest {
  private static final String DIR_MODE = "rwx------";

  /** Calls that make directories with the umask's mode; only KeyFiles may use them. */
  private static final Pattern MAKES_DIRECTORIES =
      Pattern.compile("Files\\.createDirector(y|ies)\\(|\\.mkdirs?\\(|createTempDirectory\\(");

  @TempDir Path tmp;

  @Test
  void bootstrapTokenLivesInPrivateDirectoriesAsAPrivateFile() throws Exception {
    Path home = tmp.resolve("home");
    String token = DevSetup.bootstrapToken(home);
    assertThat(token).hasSizeGreaterThanOrEqualTo(40);
    assertThat(mode(home)).isEqualTo(DIR_MODE);
    assertThat(mode(home.resolve("dev"))).isEqualTo(DIR_MODE);
    assertThat(mode(home.resolve("dev").resolve("bootstrap-token"))).isEqualTo("rw-------");
    assertThat(DevSetup.bootstrapToken(home)).as("kept across runs").isEqualTo(token);
  }

  @Test
  void refusesAnOpenDevDirectoryLeftByAnOlderVersion() throws Exception {
    Path home = tmp.resolve("home");
    Files.createDirectories(home.resolve("dev"));
    Files.setPosixFilePermissions(home, PosixFilePermissions.fromString(DIR_MODE));
    Files.setPosixFilePermissions(
        home.resolve("dev"), PosixFilePermissions.fromString("rwxr-xr-x"));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> DevSetup.bootstrapToken(home))
        .hasMessageContaining("chmod 700 " + home.resolve("dev"));
    assertThat(Files.exists(home.resolve("dev").resolve("bootstrap-token"))).isFalse();
  }

  @Test
  void noMainCodeMakesDirectoriesExceptThroughKeyFiles() throws IOException {
    Path repo = Path.of(System.getProperty("umbra.repo.dir", ".."));
    List<String> offenders = new ArrayList<>();
    for (String module : List.of("shared", "services", "clients", "launcher")) {
      try (Stream<Path> files = Files.walk(repo.resolve(module))) {
        for (Path f :
            files
                .filter(p -> p.toString().endsWith(".java") && p.toString().contains("/src/main/"))
                .toList()) {
          if (f.endsWith(Path.of("dev/umbra/crypto/keys/KeyFiles.java"))) {
            continue;
          }
          List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
          for (int i = 0; i < lines.size(); i++) {
            // a directory outside UMBRA_HOME, or one whose mode is set right after, says so on its
            // line
            if (MAKES_DIRECTORIES.matcher(lines.get(i)).find()
                && !lines.get(i).contains("mode set below")
                && !lines.get(i).contains("outside UMBRA_HOME")) {
              offenders.add(repo.relativize(f) + ":" + (i + 1));
            }
          }
        }
      }
    }
    assertThat(offenders)
        .as("make directories with KeyFiles.ensurePrivateDirectory/ensurePrivateDirectories")
        .isEmpty();
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }
}
