package dev.umbra.daemon.tty;

import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.daemon.binding.Binding;
import dev.umbra.daemon.binding.BindingStore;
import dev.umbra.daemon.http.JsonHttp;
import dev.umbra.daemon.trust.TrustStore;
import dev.umbra.proto.webtty.JoinPolicy;
import dev.umbra.proto.webtty.ServerPolicy;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one WebTTY server per binding inside {@code umbra daemon run} (docs/webtty.md):
 * the engine URL from the control plane's discovery, machine session tokens for audience
 * {@code webtty-engine} from the binding's signed request, the binding's keys, and client
 * authorization: when the binding pinned the workspace's trust material (Workspace Protection),
 * only clients presenting a device credential the workspace key signed ({@link
 * DeviceCredentialAuthorizer}); otherwise the pinned client keys in
 * {@code daemon/bindings/<machine>/tty-authorized-keys}, plus the CLI's WebTTY key when it lives in
 * the same UMBRA_HOME (one user on one host).
 *
 * <p>Env: {@code UMBRA_TTY_RECORDING} (true|false, default true), {@code UMBRA_TTY_JOIN}
 * (nobody|members|admins, default members), {@code UMBRA_TTY_SHELL} (default $SHELL -l).
 */
public final class TtyDaemon implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TtyDaemon.class);
  /** Where the CLI keeps its WebTTY keys (see dev.umbra.cli.tty.TtyKeys). */
  public static final String CLI_KEY_DIR = "cli/tty";

  private final Vertx vertx;
  private final List<TtyServer> servers = new ArrayList<>();

  private TtyDaemon(Vertx vertx) {
    this.vertx = vertx;
  }

  /**
   * Starts a server for every binding; {@code sessionToken} is the daemon's signed token request
   * (e.g. {@code DaemonRunner::session}), called on a worker thread. Failures are logged; a binding
   * whose engine is unreachable keeps retrying in the background.
   */
  public static TtyDaemon start(Path umbraHome, BindingStore store, JsonHttp http,
      BiFunction<Binding, String, JsonObject> sessionToken, Map<String, String> env) {
    TtyDaemon d = new TtyDaemon(Vertx.vertx());
    for (Binding b : store.list()) {
      try {
        URI engine = URI.create(http.get(JsonHttp.resolve(b.controlPlaneUrl(), "/v1/discovery"), null)
            .getJsonObject("services").getString("webtty-engine"));
        Path dir = store.root().resolve(b.machineId().toString());
        AuthorizedKeys pinned = new AuthorizedKeys(dir);
        Path cliKey = umbraHome.resolve(CLI_KEY_DIR).resolve("ed25519.key");
        ClientAuthorizer keyList = (ws, key) -> pinned.authorized(ws, key) || sameHomeCli(cliKey, key);
        // with Workspace Protection (pinned trust) only signed device credentials count
        ClientAuthorizer authorizer = new DeviceCredentialAuthorizer(() -> TrustStore.forBinding(store, b), keyList);
        TtyServerConfig cfg = new TtyServerConfig(engine, b.workspaceId(), b.machineId().toString(),
            () -> d.vertx.executeBlocking(() -> sessionToken.apply(b, "webtty-engine").getString("token")),
            store.signingKey(b), store.agreementKey(b), authorizer,
            env.containsKey("UMBRA_TTY_SHELL") ? List.of(env.get("UMBRA_TTY_SHELL")) : TtyServerConfig.defaultShell(env),
            TtyServerConfig.baseEnv(env), env.getOrDefault("HOME", System.getProperty("user.home")),
            policy(env), Clock.systemUTC());
        TtyServer s = new TtyServer(d.vertx, cfg);
        d.servers.add(s);
        s.start().onFailure(e -> log.warn("WebTTY server for machine {} not registered yet: {}", b.machineId(), e.getMessage()));
      } catch (RuntimeException e) {
        log.warn("WebTTY server for machine {} not started: {}", b.machineId(), e.getMessage());
      }
    }
    return d;
  }

  static ServerPolicy policy(Map<String, String> env) {
    boolean rec = !"false".equalsIgnoreCase(env.getOrDefault("UMBRA_TTY_RECORDING", "true"));
    JoinPolicy join = switch (env.getOrDefault("UMBRA_TTY_JOIN", "members")) {
      case "nobody" -> JoinPolicy.JOIN_POLICY_NOBODY;
      case "admins" -> JoinPolicy.JOIN_POLICY_GRANTED_ADMINS;
      default -> JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS;
    };
    return ServerPolicy.newBuilder().setRecording(rec).setJoin(join).build();
  }

  private static boolean sameHomeCli(Path cliKey, Ed25519PublicKey key) {
    try {
      return Files.exists(cliKey) && KeyFiles.loadEd25519(cliKey).publicKey().equals(key);
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** {@link TtyServer#recheck()} on every server; returns how many sessions were ended. Blocking. */
  public int recheck() {
    int ended = 0;
    for (TtyServer s : servers) {
      ended += s.recheck();
    }
    return ended;
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
