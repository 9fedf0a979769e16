package dev.umbra.dist;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.umbra.kit.testing.TestPostgres;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The installed package end to end (issue 21, docs/deploy.md "Debian package"): as root on a Debian
 * machine, apt-get installs the .deb; the installed {@code umbra dev} runs the platform against the
 * test PostgreSQL; a pairing code from its CLI pairs the installed {@code /usr/bin/umbra daemon
 * pair}, run as the package's system user with its own UMBRA_HOME; the daemon runs as the package's
 * unit would run it (its user, environment, working directory, umask and ExecStart, with no systemd
 * here); and {@code umbra run} from the CLI gets the command's output and exit status from it
 * through the relay. Then everything stops and the package is purged without a trace.
 */
class DistDebDaemonTest {
  static final DistBuild BUILD = DistBuild.current();
  static final Path UNIT = Path.of("/usr/lib/systemd/system/umbra-daemon.service");
  static final Path SETPRIV = Path.of("/usr/bin/setpriv");
  static final Duration START = Duration.ofMinutes(4);

  @TempDir Path tmp;

  @Test
  void theInstalledDaemonPairsWithADevPlatformAndServesUmbraRunAsTheServiceUser() throws Exception {
    InstalledDeb.assumeInstallable();
    if (!Files.isExecutable(SETPRIV)) {
      System.err.println("SKIPPED: no setpriv (util-linux) to run the daemon as the unit's user");
      assumeTrue(false, "no setpriv");
    }
    Path devHome = tmp.resolve("dev-home");
    try (TestPostgres pg = TestPostgres.createDatabase();
        InstalledDeb pkg = InstalledDeb.install(InstalledDeb.deb(BUILD))) {
      assertThat(pkg.result().exit()).as(pkg.result().output()).isZero();
      Map<String, String> cli = rootEnv(devHome);
      Map<String, String> devEnv = new HashMap<>(cli);
      devEnv.put("UMBRA_PG_URL", pg.url().toString());
      int controlPlane = reservePorts(devEnv);
      String url = "http://127.0.0.1:" + controlPlane;
      try (Background dev = Background.start("umbra dev", devEnv, tmp, List.of(UMBRA, "dev"))) {
        String ready = dev.awaitLine("ready", START, l -> l.startsWith("ready in "));
        assertThat(ready).contains(url);

        Proc code = Proc.run(cli, UMBRA, "pair", "create", "--json");
        assertThat(code.exit()).as(code.output()).isZero();
        String pairingCode = new JsonObject(code.output()).getString("code");
        Unit unit = Unit.read(UNIT);
        Proc pair =
            unit.asItsUser(
                Map.of("UMBRA_AOT", "off"),
                List.of(UMBRA, "daemon", "pair", pairingCode, "--url", url, "--name", "deb-box"));
        assertThat(pair.exit()).as(pair.output()).isZero();
        assertThat(pair.output()).contains("(deb-box)");
        // the machine's keys are the service user's, in its home, readable by it alone
        try (var files = Files.walk(Path.of(unit.env().get("UMBRA_HOME")))) {
          List<Path> all = files.toList();
          assertThat(all).hasSizeGreaterThan(2);
          for (Path f : all) {
            assertThat(Files.getOwner(f).getName()).as(f.toString()).isEqualTo(unit.user());
            String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(f));
            assertThat(mode).as(f.toString()).endsWith("------");
          }
        }

        try (Background daemon = unit.start()) {
          daemon.awaitLine("relay", START, l -> l.contains("reachable through the relay at"));
          String canary = "deb-canary-" + UUID.randomUUID();
          String line = "echo " + canary + "-$(id -un); exit 7";
          Proc run = Proc.run(cli, UMBRA, "run", "deb-box", "--no-stdin", "--", "sh", "-c", line);
          assertThat(run.exit()).as(run.output() + "\ndaemon:\n" + daemon.output()).isEqualTo(7);
          assertThat(run.output()).contains(canary + "-" + unit.user());
          assertThat(daemon.stop(Duration.ofSeconds(30))).as(daemon.output()).isNotEqualTo(-1);
        }
        assertThat(dev.stop(Duration.ofSeconds(30))).as(dev.output()).isZero();
      }
    }
    InstalledDeb.assertPurgedWithoutATrace();
  }

  static final String UMBRA = "/usr/bin/umbra";

  /**
   * Root's CLI: its own home and UMBRA_HOME; no start-up cache, whose background training would
   * outlive the command.
   */
  private Map<String, String> rootEnv(Path devHome) {
    return Map.of("HOME", tmp.toString(), "UMBRA_HOME", devHome.toString(), "UMBRA_AOT", "off");
  }

  /**
   * A free port for each service, in {@code env} (`umbra dev` derives its services' public URLs
   * from the configured ports, so they must be known before it starts, as in DevModeTest); returns
   * the control plane's.
   */
  private static int reservePorts(Map<String, String> env) throws Exception {
    int controlPlane = 0;
    for (String s : List.of("CONTROL_PLANE", "RELAY", "PAIRING", "AUDIT", "WEBTTY_ENGINE")) {
      try (ServerSocket socket = new ServerSocket(0)) {
        env.put("UMBRA_" + s + "_PORT", Integer.toString(socket.getLocalPort()));
        controlPlane = controlPlane == 0 ? socket.getLocalPort() : controlPlane;
      }
    }
    return controlPlane;
  }

  /**
   * What the installed unit says about running the daemon: its user, environment, working
   * directory, umask and command. Run here without systemd through setpriv (user, group and
   * supplementary groups, no new privileges) and a shell that sets the umask and execs.
   */
  record Unit(String user, Map<String, String> env, Path dir, String umask, List<String> exec) {
    static Unit read(Path file) throws Exception {
      Map<String, String> keys = new HashMap<>();
      Map<String, String> env = new HashMap<>();
      for (String l : Files.readAllLines(file)) {
        int eq = l.indexOf('=');
        if (l.startsWith("Environment=")) {
          String kv = l.substring("Environment=".length());
          env.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        } else if (eq > 0 && !l.startsWith("#")) {
          keys.put(l.substring(0, eq), l.substring(eq + 1));
        }
      }
      assertThat(keys).containsKeys("User", "WorkingDirectory", "UMask", "ExecStart");
      assertThat(keys.get("Group")).isEqualTo(keys.get("User"));
      return new Unit(
          keys.get("User"),
          Map.copyOf(env),
          Path.of(keys.get("WorkingDirectory")),
          keys.get("UMask"),
          List.of(keys.get("ExecStart").split(" ")));
    }

    private List<String> command(List<String> program) {
      List<String> cmd = new ArrayList<>();
      cmd.addAll(
          List.of(
              SETPRIV.toString(),
              "--reuid=" + user,
              "--regid=" + user,
              "--init-groups",
              "--no-new-privs",
              "/bin/sh",
              "-c",
              "umask " + umask + " && exec \"$0\" \"$@\""));
      cmd.addAll(program);
      return cmd;
    }

    /** A one-shot command as the unit's user with the unit's environment plus {@code extra}. */
    Proc asItsUser(Map<String, String> extra, List<String> program) throws Exception {
      Map<String, String> all = new HashMap<>(env);
      all.putAll(extra);
      return Proc.run(all, dir, Duration.ofMinutes(3), command(program));
    }

    /** ExecStart, as systemd would start it. */
    Background start() throws Exception {
      return Background.start("umbra daemon run", env, dir, command(exec));
    }
  }
}
