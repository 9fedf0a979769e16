package dev.umbra.daemon.tty;

import dev.umbra.client.tty.TtyStats;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.daemon.tty.ServerSession.State;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.proto.webtty.WebTtyReasons;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The re-check of live sessions' openers after a trust sync ({@link TtyServer#recheck}). */
final class ClientRecheck {
  private static final Logger log = LoggerFactory.getLogger(TtyServer.class);

  private ClientRecheck() {}

  /**
   * Checks the opener of every running session again against the current trust (after a trust sync)
   * and ends, with reason {@code client_refused_<why>}, the sessions of clients no longer admitted
   * — e.g. a device revoked since it opened the terminal — and only those: the device is looked up
   * under the current pin ({@link ClientAuthorizer#recheck}), so the rotation that follows a
   * revocation does not end the other trusted devices' sessions. Returns how many it ended.
   * Blocking (reads the pin); call off the event loop.
   */
  static int recheck(
      TtyServerConfig config,
      java.util.Collection<ServerSession> sessions,
      TtyStats stats,
      Vertx vertx,
      java.util.function.BiConsumer<ServerSession, WebTtyReason> end) {
    int ended = 0;
    // read before the sessions: each of them is then checked against this version or a newer one
    long version = config.authorizer().pinnedKeysetVersion();
    for (ServerSession s : sessions) {
      Ed25519PublicKey key = s.clientKey;
      if (key == null || s.state == State.ENDED) {
        continue;
      }
      String refusal = config.authorizer().recheck(config.workspaceId(), key, s.clientCredential);
      if (refusal != null) {
        stats.count("sessions_ended_client_refused");
        log.warn(
            "WebTTY session {}: its client is no longer admitted ({}); ending it", s.id, refusal);
        vertx.runOnContext(v -> end.accept(s, WebTtyReasons.clientRefused(refusal)));
        ended++;
      }
    }
    // after the ends above (same context, in order): a test waiting for this sees them done
    vertx.runOnContext(
        v -> {
          stats.count("rechecks");
          stats.set("rechecked_keyset_version", version);
        });
    return ended;
  }
}
