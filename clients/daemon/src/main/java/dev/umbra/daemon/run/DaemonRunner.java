package dev.umbra.daemon.run;

import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.http.ApiError;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.trust.TrustSync;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code umbra daemon run}: for every binding, proves the machine's identity to the control plane
 * (a signed, timestamped request for a relay session token, which also records "last seen") and
 * refreshes the pinned workspace trust material ({@link TrustSync}: new keyset versions, signed
 * revocations), then repeats both every {@link #HEARTBEAT} until stopped. The WebTTY server and the
 * relay channels re-read the pin for each new session, and open relay channels are checked against
 * it again after each sync, so approvals and revocations take effect within one heartbeat — or at
 * once, when the relay passes on a revocation ({@code FRAME_TYPE_TRUST_CHANGED}).
 */
public final class DaemonRunner {
  public static final Duration HEARTBEAT = Duration.ofMinutes(1);

  /**
   * How often the status file is rewritten between heartbeats (connections come and go faster than
   * heartbeats).
   */
  static final Duration STATUS_EVERY = Duration.ofSeconds(5);

  /** When the last heartbeat (check-in and trust sync) ended. */
  private volatile Instant lastBeat = Instant.EPOCH;

  /** The version the status file names (the CLI's, which the daemon module cannot see). */
  static final String VERSION = "umbra 0.1.0";

  private final JsonHttp http;
  private final BindingStore store;
  private final Clock clock;
  private final PrintStream out;

  /** What the last trust sync of each binding reported, so the log only shows changes. */
  private final Map<UUID, String> trustState = new ConcurrentHashMap<>();

  /** For the status file ({@link DaemonStatus}): each binding's last check-in error ("" = ok). */
  private final Map<UUID, String> checkIns = new ConcurrentHashMap<>();

  /** The keyset version of each binding's trust pin after its last sync. */
  private final Map<UUID, Long> pinVersions = new ConcurrentHashMap<>();

  public DaemonRunner(JsonHttp http, BindingStore store, Clock clock, PrintStream out) {
    this.http = http;
    this.store = store;
    this.clock = clock;
    this.out = out;
  }

  /** The message a machine signs for a session token (the control plane checks the same bytes). */
  public static byte[] sessionMessage(Binding b, String audience, long timestampMs) {
    return MachineRequests.session(b.workspaceId(), b.machineId(), audience, timestampMs);
  }

  /**
   * Asks the control plane for a session token for {@code audience}, signed with the binding's key.
   */
  public JsonObject session(Binding b, String audience) {
    Ed25519KeyPair key = store.signingKey(b);
    long ts = clock.millis();
    byte[] sig = key.privateKey().sign(sessionMessage(b, audience, ts));
    return http.post(
        JsonHttp.resolve(b.controlPlaneUrl(), ControlPlanePaths.MACHINE_SESSIONS),
        null,
        new JsonObject()
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
        checkIns.put(b.machineId(), "");
        out.println(
            "machine "
                + b.machineId()
                + " ("
                + b.name()
                + ") checked in to workspace "
                + b.workspaceId());
      } catch (ApiError e) {
        checkIns.put(b.machineId(), e.describe());
        out.println(
            "machine " + b.machineId() + " in workspace " + b.workspaceId() + ": " + e.describe());
      }
    }
    return ok;
  }

  /**
   * Refreshes every binding's pinned trust from the control plane's signed material; returns how
   * many bindings have a pin. A failure (control plane unreachable, a chain that does not follow
   * the pin) keeps the old pin, which only ever fails closed. Logs one line per binding when its
   * state changes: keyset version and number of revoked devices, never keys or signatures.
   */
  public int syncTrust() {
    int pinned = 0;
    TrustSync sync = new TrustSync(http, clock);
    for (Binding b : store.list()) {
      String state;
      try {
        Optional<DeviceTrust> t =
            sync.sync(b, store.root().resolve(b.machineId().toString()), store.signingKey(b));
        if (t.isPresent()) {
          pinned++;
          DeviceTrust.Pin p = t.get().pin();
          pinVersions.put(b.machineId(), (long) p.keyset().version());
          state =
              "workspace trust pinned at keyset version "
                  + p.keyset().version()
                  + ", "
                  + p.revoked().size()
                  + " revoked device(s)";
        } else {
          state =
              "workspace has no keyset yet (no Workspace Protection): WebTTY uses tty-authorized-keys";
        }
      } catch (ApiError e) {
        state = "trust sync failed, keeping the pin: " + e.describe();
      } catch (RuntimeException e) {
        state = "trust sync refused, keeping the pin: " + e.getMessage();
      }
      if (!state.equals(trustState.put(b.machineId(), state))) {
        out.println("machine " + b.machineId() + " in workspace " + b.workspaceId() + ": " + state);
      }
    }
    return pinned;
  }

  /** One heartbeat: check in, refresh trust and policies, end what they no longer admit. */
  private void heartbeat(
      dev.umbra.daemon.channel.DaemonRelay relay, dev.umbra.daemon.tty.TtyDaemon tty) {
    checkIn();
    syncTrust();
    lastBeat = clock.instant();
    // the WebTTY policy after the trust it is verified against (docs/webtty.md, "Server
    // policy")
    tty.syncPolicies();
    int closed = relay.recheckTrust();
    int ended = tty.recheck();
    if (closed + ended > 0) {
      out.println(
          "closed "
              + closed
              + " relay channel(s) and ended "
              + ended
              + " WebTTY session(s) of clients no longer admitted");
    }
  }

  /**
   * The status file of {@code umbra daemon status}: a failure to write it is logged, never fatal.
   */
  void writeStatus(
      Path home,
      Instant started,
      dev.umbra.daemon.channel.DaemonRelay relay,
      dev.umbra.daemon.tty.TtyDaemon tty) {
    Set<String> relayUp = new HashSet<>();
    relay.channels().stream()
        .filter(c -> c.link() != null && c.link().connected())
        .forEach(c -> relayUp.add(c.target()));
    Set<UUID> engineUp = tty.engineConnected();
    List<DaemonStatus.Binding> list =
        store.list().stream()
            .map(
                b ->
                    new DaemonStatus.Binding(
                        b.machineId(),
                        b.workspaceId(),
                        b.name(),
                        Optional.ofNullable(checkIns.get(b.machineId())).filter(e -> !e.isEmpty()),
                        relayUp.contains(b.machineId().toString()),
                        engineUp.contains(b.machineId()),
                        Optional.ofNullable(pinVersions.get(b.machineId()))))
            .toList();
    try {
      new DaemonStatus(VERSION, ProcessHandle.current().pid(), started, clock.instant(), list)
          .write(home);
    } catch (RuntimeException e) {
      out.println("could not write the daemon's status file: " + e.getMessage());
    }
  }

  /** Runs until interrupted (or once). */
  public int run(boolean once) {
    if (store.list().isEmpty()) {
      out.println("no bindings yet: pair this machine first with `umbra daemon pair <code>`");
      return 1;
    }
    Instant started = clock.instant();
    int ok = checkIn();
    lastBeat = clock.instant();
    // before serving anything: sessions are authorized against the freshest pin
    syncTrust();
    if (once) {
      return ok > 0 ? 0 : 1;
    }
    Path home = store.root().getParent().getParent();
    var tty =
        dev.umbra.daemon.tty.TtyDaemon.start(home, store, http, this::session, System.getenv());
    // relay channels (run, forward, messages) for every binding, until stopped
    try (var relay =
        dev.umbra.daemon.channel.DaemonRelay.start(
            http,
            store,
            home,
            (b, audience) -> session(b, audience).getString("token"),
            System.getenv("UMBRA_PSK"),
            out,
            tty::recheck)) {
      out.println("daemon running. Stop with Ctrl-C.");
      writeStatus(home, started, relay, tty);
      Instant[] nextBeat = {started.plus(HEARTBEAT)};
      new StatusLoop(
              STATUS_EVERY,
              () -> {
                if (!clock.instant().isBefore(nextBeat[0])) {
                  heartbeat(relay, tty);
                  nextBeat[0] = clock.instant().plus(HEARTBEAT);
                }
                writeStatus(home, started, relay, tty);
              })
          .runUntilInterrupted();
    }
    return 0;
  }
}
