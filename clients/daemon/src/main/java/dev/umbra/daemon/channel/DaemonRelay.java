package dev.umbra.daemon.channel;

import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.binding.MachineClient;
import dev.umbra.client.channel.ChannelProtocol;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.trust.TrustSync;
import dev.umbra.crypto.noise.NoisePsk;
import dev.umbra.daemon.workflow.WorkflowRuns;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.IntSupplier;

/**
 * Starts the relay channel service ({@link DaemonChannels}) for every binding of this machine, for
 * {@code umbra daemon run}: relay URL from the control plane's discovery, the binding's X25519 key,
 * and relay session tokens that the binding signs for ({@code sessionToken}). Blocking; close it to
 * stop.
 */
public final class DaemonRelay implements AutoCloseable {
  /** How long a channel whose client vanished is kept for it to resume. */
  public static final Duration FORGET_AFTER = Duration.ofMinutes(10);

  /** How often the bindings' workflows are mirrored to the configured repositories. */
  public static final Duration MIRROR_EVERY = Duration.ofSeconds(30);

  private final Vertx vertx;
  private final List<DaemonChannels> running;
  private final List<dev.umbra.daemon.workflow.WorkflowMirror> mirrors;

  private DaemonRelay(
      Vertx vertx,
      List<DaemonChannels> running,
      List<dev.umbra.daemon.workflow.WorkflowMirror> mirrors) {
    this.vertx = vertx;
    this.running = running;
    this.mirrors = mirrors;
    vertx.setPeriodic(
        MIRROR_EVERY.toMillis(),
        MIRROR_EVERY.toMillis(),
        t -> vertx.executeBlocking(this::syncWorkflows, false));
  }

  /**
   * Blocking: one mirroring of every binding's workflows to the repositories {@code
   * UMBRA_HOME/workflow-repos.json} names (docs/agents.md, "Mirroring to repository files").
   */
  public synchronized List<dev.umbra.daemon.workflow.WorkflowMirror.Report> syncWorkflows() {
    List<dev.umbra.daemon.workflow.WorkflowMirror.Report> out = new ArrayList<>();
    for (dev.umbra.daemon.workflow.WorkflowMirror m : mirrors) {
      try {
        out.add(m.syncOnce());
      } catch (java.io.IOException | RuntimeException e) {
        org.slf4j.LoggerFactory.getLogger(DaemonRelay.class)
            .warn("workflow mirror: sync state not written: {}", e.getMessage());
      }
    }
    return out;
  }

  private static dev.umbra.daemon.workflow.WorkflowMirror mirror(
      MachineClient client,
      BindingStore store,
      Binding b,
      Path umbraHome,
      dev.umbra.daemon.audit.DaemonAudit audit) {
    Path dir = store.root().resolve(b.machineId().toString());
    return new dev.umbra.daemon.workflow.WorkflowMirror(
        umbraHome,
        b.machineId().toString(),
        new dev.umbra.daemon.workflow.ControlPlaneWorkflows(client, audit::newEventId),
        dev.umbra.daemon.workflow.ControlPlaneWorkflows.verifier(
            dir, b, () -> dev.umbra.client.trust.TrustStore.forBinding(store, b)));
  }

  /**
   * @param sessionToken a fresh relay session token for a binding (blocking; e.g. DaemonRunner's
   *     signed machine session)
   * @param psk the workspace PSK text (UMBRA_PSK) for every binding; null: each binding's PSK
   *     stored at pairing, if its workspace required one
   */
  public static DaemonRelay start(
      JsonHttp http,
      BindingStore store,
      Path umbraHome,
      BiFunction<Binding, String, String> sessionToken,
      String psk,
      PrintStream out) {
    return start(http, store, umbraHome, sessionToken, psk, out, () -> 0);
  }

  /**
   * @param alsoRecheck what else to check against the pin after the relay's hint refreshed it (e.g.
   *     the live WebTTY sessions, {@code TtyDaemon::recheck}); blocking, returns how many it ended
   */
  public static DaemonRelay start(
      JsonHttp http,
      BindingStore store,
      Path umbraHome,
      BiFunction<Binding, String, String> sessionToken,
      String psk,
      PrintStream out,
      IntSupplier alsoRecheck) {
    Vertx vertx = Vertx.vertx();
    List<DaemonChannels> running = new ArrayList<>();
    List<dev.umbra.daemon.workflow.WorkflowMirror> mirrors = new ArrayList<>();
    for (Binding b : store.list()) {
      MachineClient client =
          new MachineClient(http, b, () -> store.signingKey(b), Clock.systemUTC());
      var audit =
          new dev.umbra.daemon.audit.DaemonAudit(
              vertx, http, b, () -> store.signingKey(b), Clock.systemUTC());
      mirrors.add(mirror(client, store, b, umbraHome, audit));
      try {
        JsonObject discovery =
            http.get(JsonHttp.resolve(b.controlPlaneUrl(), ControlPlanePaths.DISCOVERY), null);
        String relay = discovery.getJsonObject("services", new JsonObject()).getString("relay");
        if (relay == null) {
          out.println(
              "machine " + b.machineId() + ": the control plane names no relay; channels disabled");
          continue;
        }
        String ws = b.workspaceId().toString();
        DaemonChannels channels =
            new DaemonChannels(
                    vertx,
                    DaemonChannels.Config.of(
                            b.workspaceId(),
                            b.machineId().toString(),
                            store.agreementKey(b),
                            List.of(ChannelProtocol.relayWebSocketUrl(relay)),
                            umbraHome)
                        .withPsk(
                            psk != null
                                ? ChannelProtocol.psk(ws, psk)
                                : store.relayPsk(b).map(NoisePsk::exportBytes).orElse(null)),
                    () -> vertx.executeBlocking(() -> sessionToken.apply(b, "relay"), false))
                .tls(http.tls())
                .trust(() -> dev.umbra.client.trust.TrustStore.forBinding(store, b))
                .audit(audit.sink())
                .agentInbox(new dev.umbra.daemon.agent.ControlPlaneInbox(client));
        channels.service(
            WorkflowRuns.TOPIC,
            workflows(vertx, client, http, store, b, umbraHome, audit, channels));
        channels.onTrustHint(refresh(vertx, http, store, b, channels, alsoRecheck, out)::hint);
        channels.start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        running.add(channels);
        out.println(
            "machine "
                + b.machineId()
                + " ("
                + b.name()
                + ") reachable through the relay at "
                + relay);
      } catch (Exception e) {
        Throwable c = e.getCause() != null ? e.getCause() : e;
        out.println(
            "machine "
                + b.machineId()
                + ": relay not reachable yet ("
                + c.getMessage()
                + "); retrying in the background");
      }
    }
    return new DaemonRelay(vertx, running, mirrors);
  }

  /**
   * A revocation in the workspace: refresh the pin at once (not at the next heartbeat) and close
   * the channels of clients it no longer admits.
   */
  private static TrustRefresh refresh(
      Vertx vertx,
      JsonHttp http,
      BindingStore store,
      Binding b,
      DaemonChannels channels,
      IntSupplier alsoRecheck,
      PrintStream out) {
    return new TrustRefresh(
        vertx,
        Clock.systemUTC(),
        () ->
            new TrustSync(http, Clock.systemUTC())
                .sync(b, store.root().resolve(b.machineId().toString()), store.signingKey(b)),
        () ->
            channels
                .recheck()
                .compose(n -> vertx.executeBlocking(() -> n + alsoRecheck.getAsInt(), false)),
        line -> out.println("machine " + b.machineId() + ": " + line));
  }

  /**
   * The binding's {@code workflow} message service (docs/agents.md, "Workflow runs"): definitions
   * verified against the binding's pin, refreshed once for a signer it does not know yet.
   */
  private static WorkflowRuns workflows(
      Vertx vertx,
      MachineClient client,
      JsonHttp http,
      BindingStore store,
      Binding b,
      Path umbraHome,
      dev.umbra.daemon.audit.DaemonAudit audit,
      DaemonChannels channels) {
    Path dir = store.root().resolve(b.machineId().toString());
    return new WorkflowRuns(
        new WorkflowRuns.Wiring(
            vertx,
            client,
            (runtime, prompt, channel) ->
                channels.agentSessions().startForStep(runtime, prompt, channel),
            () -> dev.umbra.client.trust.TrustStore.forBinding(store, b),
            () -> new TrustSync(http, Clock.systemUTC()).sync(b, dir, store.signingKey(b)),
            dir,
            umbraHome,
            audit::newEventId,
            channels::sessionId,
            Clock.systemUTC()));
  }

  /**
   * Checks every open channel against the current pin (after the heartbeat's trust sync) and closes
   * those whose client is no longer admitted; returns how many were closed.
   */
  public int recheckTrust() {
    try {
      return Future.all(running.stream().map(DaemonChannels::recheck).toList())
          .map(all -> all.<Integer>list().stream().mapToInt(Integer::intValue).sum())
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      return 0; // a binding that does not answer keeps its channels until the next round
    }
  }

  public List<DaemonChannels> channels() {
    return List.copyOf(running);
  }

  @Override
  public void close() {
    try {
      Future.join(running.stream().map(DaemonChannels::stop).toList())
          .eventually(vertx::close)
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // stopping anyway
    }
  }
}
