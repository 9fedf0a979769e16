package dev.umbra.web;

import dev.umbra.cli.CliHarness;
import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.trust.TrustSync;
import dev.umbra.daemon.tty.TtyDaemon;
import java.time.Clock;

/**
 * A machine paired by the platform's CLI whose daemon runs its WebTTY server (the shell is {@code
 * /bin/sh}), for the browser terminal's tests and benchmark; {@link #syncTrust()} is what the
 * daemon's heartbeat does first, so that it admits browsers trusted since.
 */
final class TerminalMachine implements AutoCloseable {
  final BindingStore store;
  final Binding binding;
  final TtyDaemon daemon;

  private TerminalMachine(BindingStore store, Binding binding, TtyDaemon daemon) {
    this.store = store;
    this.binding = binding;
    this.daemon = daemon;
  }

  static TerminalMachine pair(BrowserPlatform platform) throws Exception {
    java.nio.file.Path dir = platform.h.tmp.resolve("machine");
    BindingStore store = platform.h.pairMachine(platform.admin, dir);
    Binding binding = store.list().get(0);
    TerminalMachine m = new TerminalMachine(store, binding, null);
    m.syncTrust();
    return new TerminalMachine(store, binding, CliHarness.startTtyDaemon(dir, store));
  }

  /** Fetches and verifies the workspace's signed trust, as the daemon's heartbeat does. */
  void syncTrust() {
    new TrustSync(new JsonHttp(), Clock.systemUTC())
        .sync(
            binding,
            store.root().resolve(binding.machineId().toString()),
            store.signingKey(binding))
        .orElseThrow();
  }

  /** Opens a terminal on this machine from the page and waits until its shell runs. */
  void open(Tab t) {
    t.page.selectOption("#terminal-machine", binding.machineId().toString());
    t.page.click("#terminal-open");
    t.await("#terminal-state[data-state=live]");
  }

  @Override
  public void close() {
    if (daemon != null) {
      daemon.close();
    }
  }
}
