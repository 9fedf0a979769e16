package dev.umbra.cli.tty;

import dev.umbra.cli.CliHarness;
import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.trust.TrustSync;
import dev.umbra.daemon.tty.TtyDaemon;
import dev.umbra.daemon.tty.TtyServer;
import dev.umbra.kit.testing.Eventually;
import dev.umbra.proto.webtty.ServerPolicy;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;

/**
 * The WebTTY end-to-end tests' common ground: workspace `dev` bootstrapped by an admin whose CLI is
 * a trusted device (Workspace Protection on), one machine paired as `local` with its pinned trust
 * synced, and that machine's WebTTY server running.
 */
final class ProtectedTtyMachine implements AutoCloseable {
  final Path admin;
  final Path machine;
  final BindingStore store;
  final Binding binding;
  final UUID wid;
  final String serverId;
  final TtyDaemon daemon;

  private ProtectedTtyMachine(Path admin, Path machine, BindingStore store) throws Exception {
    this.admin = admin;
    this.machine = machine;
    this.store = store;
    this.binding = store.list().get(0);
    this.wid = binding.workspaceId();
    this.serverId = binding.machineId().toString();
    syncTrust();
    this.daemon = CliHarness.startTtyDaemon(machine, store);
  }

  static ProtectedTtyMachine start(CliHarness h) throws Exception {
    Path admin = h.trustedOwner();
    Path machine = h.tmp.resolve("machine");
    return new ProtectedTtyMachine(admin, machine, h.pairMachine(admin, machine));
  }

  TtyServer server() {
    return daemon.servers().get(0);
  }

  /** What the daemon's heartbeat does first: fetch and verify the workspace's signed trust. */
  void syncTrust() {
    new TrustSync(new JsonHttp(), Clock.systemUTC())
        .sync(binding, store.root().resolve(serverId), store.signingKey(binding))
        .orElseThrow();
  }

  /**
   * What the daemon's heartbeat does; then waits until the engine confirmed the policy the server
   * now registers.
   */
  ServerPolicy syncDaemon() throws Exception {
    syncTrust();
    daemon.syncPolicies();
    ServerPolicy expected = server().policy();
    Eventually.await(
        "the engine confirmed the re-registration",
        Duration.ofSeconds(10),
        () -> expected.equals(server().confirmedPolicy()));
    return expected;
  }

  @Override
  public void close() {
    daemon.close();
  }
}
