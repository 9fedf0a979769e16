package dev.umbra.daemon.tty;

import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.trust.TrustStore;
import dev.umbra.client.tty.FailoverGrace;
import dev.umbra.client.ttypolicy.LocalOverride;
import dev.umbra.client.ttypolicy.TtyPolicyPin;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.daemon.ttypolicy.TtyPolicySync;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one WebTTY server per binding inside {@code umbra daemon run} (docs/webtty.md): the engine
 * URL from the control plane's discovery, machine session tokens for audience {@code webtty-engine}
 * from the binding's signed request, the binding's keys, and client authorization: when the binding
 * pinned the workspace's trust material (Workspace Protection), only clients presenting a device
 * credential the workspace key signed ({@link DeviceCredentialAuthorizer}); otherwise the pinned
 * client keys in {@code daemon/bindings/<machine>/tty-authorized-keys}, plus the CLI's WebTTY key
 * when it lives in the same UMBRA_HOME (one user on one host).
 *
 * <p>Policy (docs/webtty.md, "Server policy"): each server registers under the machine's policy as
 * the control plane serves it and the binding verifies it ({@link TtyPolicyPin}: signed by a
 * trusted device under Workspace Protection, never rolled back), made stricter by the local
 * override {@code UMBRA_TTY_RECORDING}, {@code UMBRA_TTY_RECORD_STDIN}, {@code UMBRA_TTY_JOIN}
 * ({@link LocalOverride}). Env: {@code UMBRA_TTY_SHELL} (default $SHELL -l).
 */
public final class TtyDaemon implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TtyDaemon.class);

  /** Where the CLI keeps its WebTTY keys (see dev.umbra.cli.tty.TtyKeys). */
  public static final String CLI_KEY_DIR = "cli/tty";

  private final Vertx vertx;
  private final List<TtyServer> servers = new ArrayList<>();

  /**
   * Per server (same index): its binding, where its policy is held, and the binding's signing key.
   */
  private final List<Served> served = new ArrayList<>();

  private final BindingStore store;
  private final JsonHttp http;
  private final LocalOverride override;

  private record Served(Binding binding, TtyPolicyPin pin) {}

  private TtyDaemon(Vertx vertx, BindingStore store, JsonHttp http, LocalOverride override) {
    this.vertx = vertx;
    this.store = store;
    this.http = http;
    this.override = override;
  }

  /**
   * Starts a server for every binding; {@code sessionToken} is the daemon's signed token request
   * (e.g. {@code DaemonRunner::session}), called on a worker thread. Failures are logged; a binding
   * whose engine is unreachable keeps retrying in the background.
   */
  public static TtyDaemon start(
      Path umbraHome,
      BindingStore store,
      JsonHttp http,
      BiFunction<Binding, String, JsonObject> sessionToken,
      Map<String, String> env) {
    LocalOverride override = LocalOverride.fromEnv(env);
    override.problems().forEach(p -> log.warn("WebTTY local override: {}", p));
    FailoverGrace resumeGrace = FailoverGrace.fromEnv(env, FailoverGrace.DAEMON);
    resumeGrace.problem().ifPresent(p -> log.warn("WebTTY: {}", p));
    TtyDaemon d = new TtyDaemon(Vertx.vertx(), store, http, override);
    for (Binding b : store.list()) {
      try {
        URI engine =
            URI.create(
                http.get(JsonHttp.resolve(b.controlPlaneUrl(), "/v1/discovery"), null)
                    .getJsonObject("services")
                    .getString("webtty-engine"));
        Path dir = store.root().resolve(b.machineId().toString());
        AuthorizedKeys pinned = new AuthorizedKeys(dir);
        Path cliKey = umbraHome.resolve(CLI_KEY_DIR).resolve("ed25519.key");
        ClientAuthorizer keyList =
            (ws, key) -> pinned.authorized(ws, key) || sameHomeCli(cliKey, key);
        // with Workspace Protection (pinned trust) only signed device credentials count
        ClientAuthorizer authorizer =
            new DeviceCredentialAuthorizer(() -> TrustStore.forBinding(store, b), keyList);
        TtyPolicyPin pin = new TtyPolicyPin(dir, b.workspaceId(), b.machineId());
        TtyPolicyPin.State state = d.syncPolicy(b, pin);
        TtyServerConfig cfg =
            new TtyServerConfig(
                engine,
                b.workspaceId(),
                b.machineId().toString(),
                () ->
                    d.vertx.executeBlocking(
                        () -> sessionToken.apply(b, "webtty-engine").getString("token")),
                store.signingKey(b),
                store.agreementKey(b),
                authorizer,
                env.containsKey("UMBRA_TTY_SHELL")
                    ? List.of(env.get("UMBRA_TTY_SHELL"))
                    : TtyServerConfig.defaultShell(env),
                TtyServerConfig.baseEnv(env),
                env.getOrDefault("HOME", System.getProperty("user.home")),
                state.policy().tightenedBy(override).toProto(),
                Clock.systemUTC(),
                resumeGrace.value());
        TtyServer s = new TtyServer(d.vertx, cfg, d.http.tls());
        s.updateReviewers(state.policy().reviewerKeys());
        d.servers.add(s);
        d.served.add(new Served(b, pin));
        s.start()
            .onFailure(
                e ->
                    log.warn(
                        "WebTTY server for machine {} not registered yet: {}",
                        b.machineId(),
                        e.getMessage()));
      } catch (RuntimeException e) {
        log.warn("WebTTY server for machine {} not started: {}", b.machineId(), e.getMessage());
      }
    }
    return d;
  }

  /**
   * The binding's pinned trust; empty when none, or unreadable (then a signed policy cannot verify:
   * fail closed).
   */
  private Optional<DeviceTrust> trust(Binding b) {
    try {
      return TrustStore.forBinding(store, b);
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * Fetches and verifies one binding's policy; a control plane that cannot answer leaves the held
   * one. Blocking.
   */
  private TtyPolicyPin.State syncPolicy(Binding b, TtyPolicyPin pin) {
    Optional<DeviceTrust> trust = trust(b);
    TtyPolicyPin.State state;
    try {
      state =
          new TtyPolicySync(http, Clock.systemUTC())
              .sync(b, store.root().resolve(b.machineId().toString()), store.signingKey(b), trust);
    } catch (RuntimeException e) {
      log.warn(
          "WebTTY policy of machine {} not fetched ({}); keeping the held one",
          b.machineId(),
          e.getMessage());
      state = pin.apply(Optional.empty(), trust);
    }
    report(b, state);
    return state;
  }

  private final Map<java.util.UUID, String> reported =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * One log line per binding when the state of its policy changes (never the document or a
   * signature).
   */
  private void report(Binding b, TtyPolicyPin.State state) {
    String line = state.describe();
    if (!line.equals(reported.put(b.machineId(), line))) {
      log.info("WebTTY policy of machine {}: {}", b.machineId(), line);
    }
  }

  /**
   * Fetches every binding's policy from the control plane, verifies it against the binding's pinned
   * trust and re-registers the servers whose policy changed (the daemon's heartbeat calls this
   * after its trust sync). Blocking.
   */
  public void syncPolicies() {
    for (int i = 0; i < servers.size(); i++) {
      Served s = served.get(i);
      TtyPolicyPin.State state = syncPolicy(s.binding(), s.pin());
      servers.get(i).updateReviewers(state.policy().reviewerKeys());
      servers.get(i).updatePolicy(state.policy().tightenedBy(override).toProto());
    }
  }

  /**
   * Verifies every held policy again under the current trust, without fetching (after a trust
   * refresh: a revoked signer's policy stops counting at once). Blocking.
   */
  public void reapplyPolicies() {
    for (int i = 0; i < servers.size(); i++) {
      Served s = served.get(i);
      TtyPolicyPin.State state = s.pin().apply(Optional.empty(), trust(s.binding()));
      report(s.binding(), state);
      servers.get(i).updateReviewers(state.policy().reviewerKeys());
      servers.get(i).updatePolicy(state.policy().tightenedBy(override).toProto());
    }
  }

  private static boolean sameHomeCli(Path cliKey, Ed25519PublicKey key) {
    try {
      return Files.exists(cliKey) && KeyFiles.loadEd25519(cliKey).publicKey().equals(key);
    } catch (RuntimeException e) {
      return false;
    }
  }

  /**
   * After a trust refresh: {@link #reapplyPolicies()}, then {@link TtyServer#recheck()} on every
   * server; returns how many sessions were ended. Blocking.
   */
  public int recheck() {
    reapplyPolicies();
    int ended = 0;
    for (TtyServer s : servers) {
      ended += s.recheck();
    }
    return ended;
  }

  /** The machines whose WebTTY server is connected to its engine (the daemon's status file). */
  public java.util.Set<java.util.UUID> engineConnected() {
    java.util.Set<java.util.UUID> up = new java.util.HashSet<>();
    for (int i = 0; i < servers.size(); i++) {
      if (servers.get(i).stats().get("engine_connected") > 0) {
        up.add(served.get(i).binding().machineId());
      }
    }
    return up;
  }

  public List<TtyServer> servers() {
    return List.copyOf(servers);
  }

  @Override
  public void close() {
    servers.forEach(TtyServer::close);
    vertx.close();
  }
}
