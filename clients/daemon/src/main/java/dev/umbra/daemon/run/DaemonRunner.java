package dev.umbra.daemon.run;

import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.daemon.binding.Binding;
import dev.umbra.daemon.binding.BindingStore;
import dev.umbra.daemon.http.ApiError;
import dev.umbra.daemon.http.JsonHttp;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

/**
 * {@code umbra daemon run}: for every binding, proves the machine's identity to the control plane
 * (a signed, timestamped request for a relay session token, which also records "last seen"), then
 * repeats every {@link #HEARTBEAT} until stopped. Connecting to the relay comes with the relay.
 */
public final class DaemonRunner {
  public static final Duration HEARTBEAT = Duration.ofMinutes(1);
  private final JsonHttp http;
  private final BindingStore store;
  private final Clock clock;
  private final PrintStream out;

  public DaemonRunner(JsonHttp http, BindingStore store, Clock clock, PrintStream out) {
    this.http = http;
    this.store = store;
    this.clock = clock;
    this.out = out;
  }

  /** The message a machine signs for a session token (the control plane checks the same bytes). */
  public static byte[] sessionMessage(Binding b, String audience, long timestampMs) {
    return ("umbra-machine-session/v1\n" + b.workspaceId() + "\n" + b.machineId() + "\n" + audience + "\n" + timestampMs)
        .getBytes(StandardCharsets.UTF_8);
  }

  /** Asks the control plane for a session token for {@code audience}, signed with the binding's key. */
  public JsonObject session(Binding b, String audience) {
    Ed25519KeyPair key = store.signingKey(b);
    long ts = clock.millis();
    byte[] sig = key.privateKey().sign(sessionMessage(b, audience, ts));
    return http.post(JsonHttp.resolve(b.controlPlaneUrl(), "/v1/machine-sessions"), null, new JsonObject()
        .put("workspace_id", b.workspaceId().toString())
        .put("machine_id", b.machineId().toString())
        .put("audience", audience)
        .put("timestamp_ms", ts)
        .put("signature", HexFormat.of().formatHex(sig)));
  }

  /** One round over every binding; returns how many checked in. */
  public int checkIn() {
    List<Binding> bindings = store.list();
    int ok = 0;
    for (Binding b : bindings) {
      try {
        session(b, "relay");
        ok++;
        out.println("machine " + b.machineId() + " (" + b.name() + ") checked in to workspace " + b.workspaceId());
      } catch (ApiError e) {
        out.println("machine " + b.machineId() + " in workspace " + b.workspaceId() + ": " + e.describe());
      }
    }
    return ok;
  }

  /** Runs until interrupted (or once). */
  public int run(boolean once) {
    if (store.list().isEmpty()) {
      out.println("no bindings yet: pair this machine first with `umbra daemon pair <code>`");
      return 1;
    }
    int ok = checkIn();
    if (once) {
      return ok > 0 ? 0 : 1;
    }
    dev.umbra.daemon.tty.TtyDaemon.start(store.root().getParent().getParent(), store, http, this::session, System.getenv());
    // relay channels (run, forward, messages) for every binding, until stopped
    try (var relay = dev.umbra.daemon.channel.DaemonRelay.start(http, store, store.root().getParent().getParent(),
        (b, audience) -> session(b, audience).getString("token"), System.getenv("UMBRA_PSK"), out)) {
      out.println("daemon running. Stop with Ctrl-C.");
      while (!Thread.currentThread().isInterrupted()) {
        try {
          Thread.sleep(HEARTBEAT.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
        checkIn();
      }
    }
    return 0;
  }
}
