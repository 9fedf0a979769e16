package dev.umbra.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.io.IOException;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The never-arrows of DESIGN.md §1 and the house rules of STYLE.md, checked on the production
 * classes of every module (tests are not imported: their cross-service wiring lives in test scope).
 * A rule that fails names the offending class, the class it reaches and the line.
 */
class ModuleBoundariesTest {

  /** Each service's root package; services see ciphertext only and never reach each other. */
  static final List<String> SERVICES =
      List.of(
          "dev.umbra.controlplane",
          "dev.umbra.pairing",
          "dev.umbra.relay",
          "dev.umbra.webtty",
          "dev.umbra.audit");

  /**
   * Services that never hold a key: routing, recording and audit work on ciphertext and metadata.
   */
  static final List<String> KEYLESS_SERVICES =
      List.of("dev.umbra.relay", "dev.umbra.webtty", "dev.umbra.audit");

  /** Everything on the key holders' side of the trust boundary. */
  static final String[] CLIENTS = {
    "dev.umbra.daemon..", "dev.umbra.cli..", "dev.umbra.client..", "dev.umbra.launcher.."
  };

  static final String[] SHARED = {"dev.umbra.proto..", "dev.umbra.crypto..", "dev.umbra.kit.."};

  static JavaClasses production;

  @BeforeAll
  static void importProductionClasses() throws IOException {
    // only the class path entries that hold dev/umbra (module jars or target/classes), not the
    // ~200 third-party jars: scanning those costs most of the import time
    List<URL> own =
        Collections.list(ModuleBoundariesTest.class.getClassLoader().getResources("dev/umbra"));
    production =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importUrls(own);
  }

  /**
   * Where production code may read the wall clock without a {@link java.time.Clock}, each with its
   * reason: {@code dev.umbra.cli.logging..} stamps the CLI's own log lines with the time they are
   * written (output for a human, never a decision, an expiry or a stored value).
   */
  static final String[] WALL_CLOCK_ALLOWED = {"dev.umbra.cli.logging.."};

  /**
   * Time via a {@link java.time.Clock} (STYLE.md): expiries, windows, rate limits and timestamps
   * read an injected clock, so tests move time instead of waiting for it. Intervals may use {@code
   * System.nanoTime()}, which no wall-clock change moves.
   */
  static ArchRule timeComesFromAClock() {
    return noClasses()
        .that()
        .resideOutsideOfPackages(WALL_CLOCK_ALLOWED)
        .should()
        .callMethod(System.class, "currentTimeMillis")
        .orShould()
        .callMethod(Instant.class, "now")
        .orShould()
        .callMethod(LocalDateTime.class, "now")
        .orShould()
        .callMethod(ZonedDateTime.class, "now")
        .orShould()
        .callMethod(OffsetDateTime.class, "now")
        .because(
            "time comes from an injected java.time.Clock (STYLE.md); the one exception is the CLI's"
                + " log lines (dev.umbra.cli.logging), stamped for a human reader");
  }

  static ArchRule keylessServiceNeverReachesCrypto(String service) {
    return noClasses()
        .that()
        .resideInAPackage(service + "..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.umbra.crypto..")
        .because("relay, engine and audit route and store ciphertext; they have no key to use");
  }

  @Test
  void importsTheClassesOfEveryModule() {
    // a rule over nothing passes: prove the import saw each module's classes
    for (String root :
        Stream.concat(
                SERVICES.stream(),
                Stream.of(
                    "dev.umbra.proto",
                    "dev.umbra.crypto",
                    "dev.umbra.kit",
                    "dev.umbra.client",
                    "dev.umbra.daemon",
                    "dev.umbra.cli",
                    "dev.umbra.launcher"))
            .toList()) {
      assertThat(
              production.stream()
                  .anyMatch(
                      c ->
                          c.getPackageName().equals(root)
                              || c.getPackageName().startsWith(root + ".")))
          .as("production classes of %s imported", root)
          .isTrue();
    }
  }

  /**
   * clients/web, the browser app, is a key holder whose files the control plane serves
   * (docs/web.md): the jar a service depends on for them holds static files only, never a class a
   * service could call.
   */
  @Test
  void theWebAppIsStaticFilesWithoutJavaCode() throws Exception {
    URL index = getClass().getClassLoader().getResource("umbra-web/app/index.html");
    assertThat(index).as("the web app's index.html on the class path").isNotNull();
    List<String> files = new ArrayList<>();
    if (index.getProtocol().equals("jar")) {
      try (JarFile jar = ((JarURLConnection) index.openConnection()).getJarFile()) {
        jar.stream().map(JarEntry::getName).forEach(files::add);
      }
    } else {
      Path root = Path.of(index.toURI()).getParent().getParent().getParent();
      try (Stream<Path> walk = Files.walk(root)) {
        walk.map(p -> root.relativize(p).toString()).forEach(files::add);
      }
    }
    assertThat(files).anyMatch(f -> f.endsWith(".js"));
    assertThat(files).noneMatch(f -> f.endsWith(".class"));
  }

  @TestFactory
  Stream<DynamicTest> servicesNeverReachClientsOrEachOther() {
    return SERVICES.stream()
        .map(
            service ->
                DynamicTest.dynamicTest(
                    service,
                    () -> {
                      String[] others =
                          Stream.concat(
                                  SERVICES.stream()
                                      .filter(s -> !s.equals(service))
                                      .map(s -> s + ".."),
                                  Stream.of(CLIENTS))
                              .toArray(String[]::new);
                      noClasses()
                          .that()
                          .resideInAPackage(service + "..")
                          .should()
                          .dependOnClassesThat()
                          .resideInAnyPackage(others)
                          .because(
                              "a service is deployed alone and sees only ciphertext (DESIGN.md §1)")
                          .check(production);
                    }));
  }

  @TestFactory
  Stream<DynamicTest> keylessServicesNeverReachCrypto() {
    return KEYLESS_SERVICES.stream()
        .map(
            service ->
                DynamicTest.dynamicTest(
                    service, () -> keylessServiceNeverReachesCrypto(service).check(production)));
  }

  @Test
  void aRuleFailsOnAClassThatBreaksIt() {
    // the rules above pass on today's tree; this shows they can fail: a relay-package class that
    // holds an AEAD key (a test fixture, never shipped) is reported with the class it reaches
    JavaClasses fixture =
        new ClassFileImporter().importClasses(dev.umbra.relay.archfixture.RelayHoldingAKey.class);
    assertThatThrownBy(() -> keylessServiceNeverReachesCrypto("dev.umbra.relay").check(fixture))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("RelayHoldingAKey")
        .hasMessageContaining("dev.umbra.crypto.aead.AeadKey");
  }

  @Test
  void productionCodeReadsTimeFromAClock() {
    timeComesFromAClock().check(production);
  }

  @Test
  void theClockRuleFailsOnAClassThatReadsTheWallClock() {
    // a daemon-package class (a test fixture, never shipped) reading System.currentTimeMillis()
    // and Instant.now() is reported with both calls
    JavaClasses fixture =
        new ClassFileImporter()
            .importClasses(dev.umbra.daemon.archfixture.DaemonReadingTheWallClock.class);
    assertThatThrownBy(() -> timeComesFromAClock().check(fixture))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("DaemonReadingTheWallClock")
        .hasMessageContaining("System.currentTimeMillis()")
        .hasMessageContaining("Instant.now()");
  }

  @Test
  void cryptoInternalsAreUsedOnlyInsideCrypto() {
    ArchRule rule =
        noClasses()
            .that()
            .resideOutsideOfPackage("dev.umbra.crypto..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("dev.umbra.crypto.internal..")
            .because(
                "all crypto goes through shared/crypto's typed API (keys, suites), never its internals");
    rule.check(production);
  }

  @Test
  void sharedModulesNeverReachServicesOrClients() {
    String[] upward =
        Stream.concat(SERVICES.stream().map(s -> s + ".."), Stream.of(CLIENTS))
            .toArray(String[]::new);
    noClasses()
        .that()
        .resideInAnyPackage(SHARED)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(upward)
        .because("shared/* sits below every service and client")
        .check(production);
  }

  @Test
  void theDaemonNeverReachesTheCli() {
    noClasses()
        .that()
        .resideInAPackage("dev.umbra.daemon..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.umbra.cli..", "dev.umbra.launcher..")
        .because("the daemon runs on a machine without the CLI")
        .check(production);
  }

  @Test
  void theCliIsBuiltOnTheClientLibraryNeverOnTheDaemon() {
    noClasses()
        .that()
        .resideInAPackage("dev.umbra.cli..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.umbra.daemon..", "dev.umbra.launcher..")
        .because(
            "the CLI, the browser app and agents share clients/core; the daemon is what runs on a machine")
        .check(production);
  }

  @Test
  void theClientLibraryIsBelowEveryClient() {
    noClasses()
        .that()
        .resideInAPackage("dev.umbra.client..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.umbra.daemon..", "dev.umbra.cli..", "dev.umbra.launcher..")
        .because("clients/core is what every key holder shares, so it knows none of them")
        .check(production);
  }

  @Test
  void nothingButTheLauncherComposesServices() {
    String[] services = SERVICES.stream().map(s -> s + "..").toArray(String[]::new);
    noClasses()
        .that()
        .resideInAnyPackage("dev.umbra.daemon..", "dev.umbra.cli..", "dev.umbra.client..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(services)
        .because(
            "clients speak to services over the wire only; dev mode (launcher) is the one composer")
        .check(production);
  }
}
