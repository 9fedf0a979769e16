package dev.umbra.client.tty;

import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.daemon.tty.ClientAuthorizer;
import dev.umbra.daemon.tty.TtyServerConfig;
import dev.umbra.proto.webtty.JoinPolicy;
import dev.umbra.proto.webtty.ServerPolicy;
import io.vertx.core.Future;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The daemon side the TTY end-to-end tests drive: {@code /bin/sh} with a bare {@code $ } prompt (no
 * profile read), recording on, granted members may join.
 */
final class TestShell {
  private TestShell() {}

  /** The configuration of a TTY server for {@code machine} of {@code ws} behind {@code engine}. */
  static TtyServerConfig config(
      URI engine,
      UUID ws,
      String machine,
      Supplier<Future<String>> token,
      Ed25519KeyPair sign,
      X25519KeyPair kx,
      ClientAuthorizer authorized,
      Path home) {
    Map<String, String> env = new HashMap<>(TtyServerConfig.baseEnv(System.getenv()));
    env.put("PS1", "$ ");
    env.put("ENV", "");
    return new TtyServerConfig(
        engine,
        ws,
        machine,
        token,
        sign,
        kx,
        authorized,
        List.of("/bin/sh"),
        env,
        home.toString(),
        ServerPolicy.newBuilder()
            .setRecording(true)
            .setJoin(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS)
            .build(),
        Clock.systemUTC());
  }
}
