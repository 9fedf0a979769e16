package dev.umbra.daemon.tty;

import dev.umbra.client.tty.FailoverGrace;
import dev.umbra.client.tty.ResumeDocument;
import dev.umbra.client.tty.TtyStats;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Engine failover, the daemon's side (docs/webtty.md "Engine failover"). When the connection to the
 * engine drops, live sessions are <em>suspended</em>, not ended: the shells keep running, their
 * output waits (the PTY reader is held back, nothing is sealed into a dead socket) for at most the
 * config's {@code resumeGrace} ({@link FailoverGrace#DAEMON}, 30 s by default). Once the server has
 * registered on a new connection (any instance), it sends RESUME with a resume document it signs
 * with the machine's binding key ({@link ResumeDocument}: the session, who controls, the input and
 * output keys and counters it expects and sends). The engine answers RESUMED (output flows again,
 * under the same keys and counters) or REFUSED (resume_refused*: the session ends); a session not
 * resumed within the grace ends. Keys, counters and the receiver rules never change across the
 * move. Runs on the Vert.x context.
 */
final class EngineResume {
  private static final Logger log = LoggerFactory.getLogger(EngineResume.class);
  private final Vertx vertx;
  private final TtyServerConfig config;
  private final TtyStats stats;
  private final SessionLink link;
  private final Map<String, ServerSession> sessions;
  private final Consumer<ServerSession> endQuietly;
  private final Runnable wakeOutput;

  EngineResume(
      Vertx vertx,
      TtyServerConfig config,
      TtyStats stats,
      SessionLink link,
      Map<String, ServerSession> sessions,
      Consumer<ServerSession> endQuietly,
      Runnable wakeOutput) {
    this.vertx = vertx;
    this.config = config;
    this.stats = stats;
    this.link = link;
    this.sessions = sessions;
    this.endQuietly = endQuietly;
    this.wakeOutput = wakeOutput;
  }

  /** The engine connection dropped: live sessions wait for the grace, the others end. */
  void disconnected() {
    for (ServerSession s : sessions.values()) {
      s.resumeSent = false;
      if (s.state != ServerSession.State.LIVE) {
        endQuietly.accept(s);
        continue;
      }
      if (s.suspended) {
        continue; // its grace runs from the first drop
      }
      s.suspended = true;
      stats.count("sessions_suspended");
      s.resumeTimer =
          vertx.setTimer(
              config.resumeGrace().toMillis(),
              t -> {
                if (s.suspended && s.state == ServerSession.State.LIVE) {
                  stats.count("resume_timed_out");
                  log.warn(
                      "WebTTY session {}: no engine took it over in {}; ending it",
                      s.id,
                      config.resumeGrace());
                  endQuietly.accept(s);
                }
              });
    }
  }

  /** Registered on a (new) connection: each suspended session asks to be taken over, once. */
  void registered() {
    for (ServerSession s : sessions.values()) {
      if (s.suspended && !s.resumeSent && s.state == ServerSession.State.LIVE) {
        s.resumeSent = true;
        link.send(frame(s));
        stats.count("resumes_sent");
      }
    }
  }

  /** RESUME for {@code s}: the signed document and the latest share, if any. */
  private WebTtyFrame frame(ServerSession s) {
    KeyId controller = s.input.controller();
    PayloadKeyId inputKey = s.input.keyId();
    ResumeDocument doc =
        new ResumeDocument(
            config.workspaceId().toString(),
            config.serverId(),
            s.id,
            ++s.resumeEpoch,
            controller == null ? null : controller.toHex(),
            controller == null || inputKey == null ? null : inputKey.toHex(),
            s.input.expected(),
            s.outputKeyId.toHex(),
            s.outputEpoch,
            s.output.nextCounter(),
            config.clock().millis());
    WebTtyFrame.Builder f =
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_RESUME)
            .setSessionId(s.id)
            .setSequence(s.lastSequence)
            .setResume(doc.sign(config.signingKey()));
    WebTtyFrame share = s.lastOutputKey;
    if (share != null) {
      f.setOutputKeyEpoch(share.getOutputKeyEpoch())
          .addAllGrants(share.getGrantsList())
          .setKeyContext(share.getKeyContext());
    }
    return f.build();
  }

  /** The engine took the session over: output flows again. */
  void resumed(WebTtyFrame f) {
    ServerSession s = sessions.get(f.getSessionId());
    if (s == null || !s.suspended) {
      stats.count("resumed_unexpected");
      return;
    }
    s.suspended = false;
    vertx.cancelTimer(s.resumeTimer);
    stats.count("sessions_resumed");
    log.info("WebTTY session {} resumed on a new engine connection", s.id);
    wakeOutput.run();
  }

  /** The engine refused to take the session over (resume_refused*): it ends. */
  void refused(WebTtyFrame f) {
    ServerSession s = sessions.get(f.getSessionId());
    if (s != null && s.suspended) {
      stats.count("resume_refused");
      log.warn("WebTTY session {}: the engine refused to resume it ({})", s.id, f.getReason());
      endQuietly.accept(s);
    } else {
      stats.count("unexpected_frame");
    }
  }
}
