package dev.umbra.chaos;

import static dev.umbra.cli.CliHarness.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.chaos.ChaosCluster.Instance;
import dev.umbra.chaos.ChaosCluster.Svc;
import dev.umbra.chaos.ChaosLoad.Fault;
import dev.umbra.kit.testing.Eventually;
import io.vertx.core.json.JsonObject;
import java.time.Duration;

/**
 * The engine's split faults of the chaos suite (docs/chaos.md; docs/webtty.md "A home's death" and
 * "An edge instance's death"): the terminal's session homed on one engine instance (the one holding
 * the daemon's server link) while `umbra tty`'s connection goes through the other (its edge), then
 * one of the two killed with SIGKILL. The split is placed, not left to the balancer: the home is
 * drained in HAProxy (no new connections; the daemon's stays) while a new `umbra tty` opens, so its
 * connection can only reach the other instance, and the engines' metrics confirm it.
 */
final class EngineSplit {
  private static final String HOMED = "umbra_webtty_engine_sessions_live";
  private static final String CONNECTIONS = "umbra_webtty_engine_connections";

  /** Where a new terminal's session lives: its home, its edge and its id. */
  record Placement(Instance home, Instance edge, String session) {}

  /** What a split fault left: its tag (in the typed lines) and the session's recording. */
  record Killed(String tag, String recording) {}

  private final ChaosCluster cluster;
  private final ChaosLoad load;

  EngineSplit(ChaosCluster cluster, ChaosLoad load) {
    this.cluster = cluster;
    this.load = load;
  }

  /**
   * Opens a new terminal whose connection goes through the engine instance that does not hold the
   * daemon's link (found as the one homing the present terminal's session).
   */
  Placement arrange(String log) throws Exception {
    cluster.awaitAllHealthy();
    Instance home = cluster.instance(Svc.WEBTTY_ENGINE, load.busiest(Svc.WEBTTY_ENGINE, HOMED));
    Instance edge = cluster.instance(Svc.WEBTTY_ENGINE, 1 - home.n());
    cluster.awaitUpInBalancer(edge);
    cluster.balancer(home, "drain");
    String session;
    try {
      session = load.reopenTerminal(log);
    } finally {
      cluster.balancer(home, "ready");
    }
    double homed = ChaosCluster.metric(edge.port(), HOMED);
    double through = ChaosCluster.metric(edge.port(), CONNECTIONS);
    System.out.printf(
        "chaos: split placed: session %s homed on %s (%s sessions), `umbra tty` through %s"
            + " (%s sessions homed, %s connections)%n",
        session, home.name(), ChaosCluster.metric(home.port(), HOMED), edge.name(), homed, through);
    assertThat(homed)
        .as(edge.name() + " homes no session: the daemon's link is elsewhere")
        .isZero();
    assertThat(through).as("`umbra tty`'s connection on " + edge.name()).isGreaterThanOrEqualTo(1);
    return new Placement(home, edge, session);
  }

  /**
   * SIGKILL of {@code victim} (the home or the edge of {@code p}) under the suite's load and
   * checks; the survivor must keep answering /healthz 200 and the terminal must go on in the same
   * session within 5 s. Returns what the run measured.
   */
  ChaosLoad.Ran kill(Placement p, Instance victim, String what) throws Exception {
    Instance survivor = victim.equals(p.home()) ? p.edge() : p.home();
    ChaosLoad.Ran ran =
        load.run(
            "kill -9 " + victim.name() + " (" + what + ")",
            new Fault() {
              @Override
              public void inject() throws Exception {
                cluster.kill(victim);
              }

              @Override
              public void recover() throws Exception {
                Eventually.await(
                    survivor.name() + " /healthz 200 while " + victim.name() + " is dead",
                    Duration.ofSeconds(15),
                    () -> ChaosCluster.status(survivor.port()) == 200);
                cluster.restart(victim);
              }

              @Override
              public boolean waitForRecovery() {
                return false;
              }
            });
    assertThat(load.terminal.output())
        .as("the terminal's failover notice names its own session")
        .contains("engine failover: ")
        .contains("reconnected to " + p.session());
    // the time to go on is measured (the outcome line, docs/chaos.md), bounded by the run's 60 s:
    // issue 20's 5 s is asserted by TtyHomeSplitFailoverTest and TtyEdgeFailoverTest; here, on a
    // machine at load 15-25, the daemon's own reconnect took 15.9 s of a home kill
    cluster.awaitHealthy(victim, ChaosLoad.RECOVERY); // back with nothing done by hand
    return ran;
  }

  /**
   * Places a split terminal, kills its home ({@code home}) or its edge, checks that {@code resumed}
   * {@code terminal.resumed} audit events name its session (one takeover, or none when the home
   * lived); returns the fault's tag and the session's recording.
   */
  Killed kill(boolean home, int resumed) throws Exception {
    Placement p = arrange(home ? "tty-home-split.log" : "tty-edge-split.log");
    ChaosLoad.Ran ran =
        home
            ? kill(p, p.home(), "the session's home; the terminal's edge lives")
            : kill(p, p.edge(), "the terminal's edge; the session's home lives");
    assertThat(resumedEvents(p.session(), resumed))
        .as("terminal.resumed events")
        .isEqualTo(resumed);
    return new Killed(ran.tag(), recording(p.session(), ran.tag()));
  }

  /**
   * How many {@code terminal.resumed} audit events name {@code session} (one per takeover by
   * another home, none when the home lived), after the audit has had time to store them.
   */
  int resumedEvents(String session, int expected) {
    int[] n = new int[1];
    Eventually.holdsWithin(
        Duration.ofSeconds(20),
        () -> {
          n[0] = 0;
          for (Object o :
              ok(load.admin, "audit", "query", "--action", "terminal.resumed", "--all", "--json")
                  .array()) {
            if (((JsonObject) o).getString("target", "").endsWith(session)) {
              n[0]++;
            }
          }
          return n[0] >= expected;
        });
    return n[0];
  }

  /**
   * The session's recording as `umbra recordings export --raw` decrypts it, once it holds what was
   * typed after the fault {@code tag} (the new home's rows are written in batches).
   */
  String recording(String session, String tag) {
    String[] text = new String[1];
    Eventually.await(
        "the recording of " + session + " holds " + tag + "-after-43",
        ChaosLoad.RECOVERY,
        () -> {
          text[0] = ok(load.admin, "recordings", "export", session, "--raw").out();
          return text[0].contains(tag + "-after-43");
        });
    return text[0];
  }
}
