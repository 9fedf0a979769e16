package dev.umbra.cli.agent;

import static dev.umbra.cli.CliHarness.ok;
import static dev.umbra.cli.CliHarness.umbra;

import dev.umbra.cli.CliHarness;
import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.daemon.agent.AgentRuntimes;
import dev.umbra.daemon.channel.DaemonRelay;
import dev.umbra.daemon.run.DaemonRunner;
import dev.umbra.kit.config.ServiceName;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What the agent session tests set up alike: the services with a relay, an admin whose CLI is a
 * trusted device, a second trusted device ({@code laptop}), a machine paired to the workspace whose
 * daemon has the scripted runtime {@code bot} configured (a shell script speaking the runtime
 * protocol, docs/agents.md "Runtime protocol"), and the daemon's relay channels.
 */
public final class AgentMachine implements AutoCloseable {
  final CliHarness h;
  final Path admin;
  final Path laptop;
  final Path machine;
  final DaemonRelay relay;

  private AgentMachine(CliHarness h, Path admin, Path laptop, Path machine, DaemonRelay relay) {
    this.h = h;
    this.admin = admin;
    this.laptop = laptop;
    this.machine = machine;
    this.relay = relay;
  }

  /**
   * @param bot the runtime's script, run as {@code /bin/sh bot.sh}
   * @param pinTrust whether the daemon pins the workspace's trust before it starts (as its
   *     heartbeat would): what a signed workflow needs to run
   */
  static AgentMachine start(String name, String bootstrap, String bot, boolean pinTrust)
      throws Exception {
    CliHarness h = CliHarness.start(name, bootstrap, ServiceName.PAIRING, ServiceName.RELAY);
    Path admin = h.tmp.resolve("admin");
    Path machine = h.tmp.resolve("machine");
    ok(admin, "login", h.cpUrl, "--bootstrap-token", bootstrap, "--workspace", "dev");
    ok(admin, "device", "trust", "-w", "dev");
    Path laptop = h.trustedSecond(admin, "laptop", "dev");
    DaemonRelay relay = pairWithRuntime(h, admin, machine, bot, pinTrust);
    return new AgentMachine(h, admin, laptop, machine, relay);
  }

  /**
   * Pairs {@code machine} to the workspace of {@code admin}, configures the scripted runtime {@code
   * bot} ({@code /bin/sh bot.sh} with the script {@code bot}) and starts the daemon's relay
   * channels.
   */
  public static DaemonRelay pairWithRuntime(
      CliHarness h, Path admin, Path machine, String bot, boolean pinTrust) throws Exception {
    BindingStore store = h.pairMachine(admin, machine);
    Path script = machine.resolve("bot.sh");
    Files.writeString(script, bot);
    Path runtimes = machine.resolve(AgentRuntimes.FILE);
    Files.writeString(
        runtimes,
        new JsonObject()
            .put(
                "runtimes",
                new JsonObject()
                    .put(
                        "bot",
                        new JsonObject()
                            .put("argv", new JsonArray().add("/bin/sh").add(script.toString()))))
            .encode());
    Files.setPosixFilePermissions(runtimes, PosixFilePermissions.fromString("rw-------"));
    if (pinTrust) {
      new DaemonRunner(
              new JsonHttp(),
              store,
              Clock.systemUTC(),
              new PrintStream(new ByteArrayOutputStream()))
          .syncTrust();
    }
    DaemonRelay relay = CliHarness.startDaemonRelay(machine, store);
    if (relay.channels().size() != 1) {
      throw new IllegalStateException("the daemon is not reachable through the relay");
    }
    return relay;
  }

  /** The frames a `--json` watch printed (one JSON object per line). */
  public static List<JsonObject> frames(UmbraRun run) {
    return run.out().lines().filter(l -> l.startsWith("{\"type\"")).map(JsonObject::new).toList();
  }

  /** Watches {@code session} from its first frame until a frame says {@code until}. */
  public static CompletableFuture<UmbraRun> watch(
      Path home, String session, String until, int seconds) {
    return CompletableFuture.supplyAsync(
        () ->
            umbra(
                home,
                "agent-session",
                "attach",
                "local",
                session,
                "--from",
                "1",
                "--json",
                "--until",
                until,
                "--for",
                Integer.toString(seconds)));
  }

  /**
   * How often a test asks `agent-session list` while it waits: each run opens a relay connection,
   * and the relay allows 20 new ones a second per address ({@code UMBRA_RELAY_CONN_RATE}, burst
   * 100), which the clients under test share; polled every 10 ms the list used them up and the
   * relay refused with 429 (CI, 2026-12-07).
   */
  public static final java.time.Duration LIST_POLL = java.time.Duration.ofMillis(250);

  /** The list entry of {@code session}. */
  JsonObject listed(String session) {
    return ok(admin, "agent-session", "list", "local", "--json").array().stream()
        .map(JsonObject.class::cast)
        .filter(s -> s.getString("session_id").equals(session))
        .findFirst()
        .orElseThrow();
  }

  /** The machine's id (its sessions' directory under {@code agent-sessions/}). */
  String machineId() {
    return relay.channels().get(0).target();
  }

  @Override
  public void close() throws Exception {
    relay.close();
    h.close();
  }
}
