package dev.umbra.daemon.tty;

import dev.umbra.client.tty.FailoverGrace;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.proto.webtty.ServerPolicy;
import io.vertx.core.Future;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * What the daemon's WebTTY server needs: the engine's base URL (http/https; the WebSocket is at
 * {@code /v1/webtty/server}), the binding (workspace, machine id as server id, its keys), fresh
 * machine session tokens for audience {@code webtty-engine}, the client authorization step, the
 * shell command with its base environment and directory, the server policy, and how long a live
 * session waits for an engine after the connection dropped ({@code resumeGrace}).
 */
public record TtyServerConfig(
    URI engineUrl,
    UUID workspaceId,
    String serverId,
    Supplier<Future<String>> tokens,
    Ed25519KeyPair signingKey,
    X25519KeyPair agreementKey,
    ClientAuthorizer authorizer,
    List<String> shell,
    Map<String, String> env,
    String directory,
    ServerPolicy policy,
    Clock clock,
    Duration resumeGrace) {

  /** With the default resume grace ({@link FailoverGrace#DEFAULT}). */
  public TtyServerConfig(
      URI engineUrl,
      UUID workspaceId,
      String serverId,
      Supplier<Future<String>> tokens,
      Ed25519KeyPair signingKey,
      X25519KeyPair agreementKey,
      ClientAuthorizer authorizer,
      List<String> shell,
      Map<String, String> env,
      String directory,
      ServerPolicy policy,
      Clock clock) {
    this(
        engineUrl,
        workspaceId,
        serverId,
        tokens,
        signingKey,
        agreementKey,
        authorizer,
        shell,
        env,
        directory,
        policy,
        clock,
        FailoverGrace.DEFAULT);
  }

  /** The environment a shell gets: a few variables of the daemon's own, never its secrets. */
  public static Map<String, String> baseEnv(Map<String, String> daemonEnv) {
    Map<String, String> out = new java.util.TreeMap<>();
    for (String k : List.of("HOME", "USER", "LOGNAME", "PATH", "SHELL", "LANG", "TZ")) {
      if (daemonEnv.containsKey(k)) {
        out.put(k, daemonEnv.get(k));
      }
    }
    daemonEnv.forEach(
        (k, v) -> {
          if (k.startsWith("LC_")) {
            out.put(k, v);
          }
        });
    out.putIfAbsent("PATH", "/usr/local/bin:/usr/bin:/bin");
    return out;
  }

  /** The user's login shell ($SHELL, else /bin/sh). */
  public static List<String> defaultShell(Map<String, String> daemonEnv) {
    String sh = daemonEnv.getOrDefault("SHELL", "/bin/sh");
    return List.of(sh.isBlank() ? "/bin/sh" : sh, "-l");
  }
}
