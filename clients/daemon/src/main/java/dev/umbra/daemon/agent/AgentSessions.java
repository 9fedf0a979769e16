package dev.umbra.daemon.agent;

import dev.umbra.client.agent.AgentFrame;
import dev.umbra.client.agent.AgentFrames;
import dev.umbra.client.channel.SecureChannel;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.daemon.audit.DaemonAudit;
import dev.umbra.proto.channel.AgentSessionOpen;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.ChannelReason;
import dev.umbra.proto.channel.Started;
import io.vertx.core.Context;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent sessions of one workspace binding (docs/agents.md, "Agent sessions"): answers agent
 * session channels — start a configured runtime, attach to a session, list the sessions, page a
 * transcript. Sessions live under {@code UMBRA_HOME/agent-sessions/<machine id>/<session id>/}
 * (0700; files 0600), one tree per binding, so two workspaces never see each other's. At most
 * {@link #MAX_LIVE} run at once; the last {@link #MAX_KEPT} are listed. Runs on the binding's
 * context.
 */
public final class AgentSessions {
  private static final Logger log = LoggerFactory.getLogger(AgentSessions.class);
  public static final String DIRECTORY = "agent-sessions";
  static final int MAX_LIVE = 8;
  static final int MAX_KEPT = 64;
  private static final Pattern SESSION_ID = Pattern.compile("\\d{8}T\\d{6}Z-[0-9a-f]{12}");

  /** How a channel is refused (ChannelError then close): DaemonChannels' own refusal. */
  @FunctionalInterface
  public interface Refuser {
    void refuse(SecureChannel channel, ChannelReason reason, String message);
  }

  private final Context context;
  private final Path home;
  private final Path root;
  private final AgentRuntimes runtimes;
  private final DaemonAudit.Sink audit;
  private final Clock clock;
  private final Supplier<String> ids;
  private final Refuser refuser;
  private final Map<String, AgentSession> sessions = new LinkedHashMap<>();
  private AgentInbox inbox = AgentInbox.NONE;
  private int starting;

  /**
   * @param home UMBRA_HOME (runtimes file; a runtime's default working directory)
   * @param target the binding's machine id (its sessions' directory)
   * @param ids new session ids
   */
  public AgentSessions(
      Context context,
      Path home,
      String target,
      DaemonAudit.Sink audit,
      Clock clock,
      Supplier<String> ids,
      Refuser refuser) {
    this.context = context;
    this.home = home;
    this.root = home.resolve(DIRECTORY).resolve(target);
    this.runtimes = new AgentRuntimes(home);
    this.audit = audit;
    this.clock = clock;
    this.ids = ids;
    this.refuser = refuser;
  }

  /**
   * Where the sessions' runtimes raise inbox items (docs/agents.md, "Inbox items from a runtime");
   * default: nowhere (every request fails with {@code no_inbox}).
   */
  public AgentSessions inbox(AgentInbox inbox) {
    this.inbox = inbox;
    return this;
  }

  /** An agent session channel's request, on the context. */
  public void open(SecureChannel channel, AgentSessionOpen op, String clientKey) {
    switch (op.getOpCase()) {
      case START -> start(channel, op.getStart().getRuntime(), clientKey);
      case ATTACH -> attach(channel, op.getAttach().getSessionId(), op.getAttach().getFromSeq());
      case LIST -> list(channel);
      case TRANSCRIPT ->
          transcript(
              channel,
              op.getTranscript().getSessionId(),
              op.getTranscript().getFromSeq(),
              op.getTranscript().getLimit());
      default ->
          refuser.refuse(
              channel, ChannelReason.CHANNEL_REASON_BAD_REQUEST, "unknown agent request");
    }
  }

  private void start(SecureChannel channel, String runtimeId, String clientKey) {
    if (liveCount() + starting >= MAX_LIVE) {
      refuser.refuse(
          channel,
          ChannelReason.CHANNEL_REASON_LIMIT_REACHED,
          "this machine runs " + MAX_LIVE + " agent sessions already");
      return;
    }
    String id = ids.get();
    starting++;
    context
        .executeBlocking(
            () -> {
              AgentRuntimes.Runtime runtime = runtimes.find(runtimeId).orElse(null);
              if (runtime == null) {
                return null;
              }
              Path dir = KeyFiles.ensurePrivateDirectories(home, root.resolve(id));
              AgentSession s =
                  new AgentSession(
                      id, runtime, channel.channelId(), context, dir, audit, inbox, clock);
              s.spawn(home, clientKey);
              return s;
            },
            false)
        .onComplete(
            ar -> {
              starting--;
              if (ar.failed() || ar.result() == null) {
                refuser.refuse(
                    channel,
                    ar.failed()
                        ? ChannelReason.CHANNEL_REASON_START_FAILED
                        : ChannelReason.CHANNEL_REASON_UNKNOWN_RUNTIME,
                    ar.failed()
                        ? "cannot start the runtime: " + ar.cause().getMessage()
                        : "no runtime '" + runtimeId + "' is configured on this machine");
                return;
              }
              AgentSession s = ar.result();
              keep(s);
              log.atInfo()
                  .addKeyValue("session", id)
                  .addKeyValue("channel", Long.toHexString(channel.channelId()))
                  .log("agent session started");
              if (channel.closed()) {
                return; // the starter went away: the session runs on, detached
              }
              s.attach(channel, 1);
            });
  }

  private void keep(AgentSession s) {
    sessions.put(s.id(), s);
    List<String> ended = new ArrayList<>();
    sessions.forEach((k, v) -> ended.add(v.live() ? null : k));
    ended.removeIf(java.util.Objects::isNull);
    for (int i = 0; sessions.size() > MAX_KEPT && i < ended.size(); i++) {
      sessions.remove(ended.get(i));
    }
  }

  private void attach(SecureChannel channel, String id, long fromSeq) {
    AgentSession s = sessions.get(id);
    if (s == null) {
      refuser.refuse(
          channel, ChannelReason.CHANNEL_REASON_UNKNOWN_SESSION, "no agent session " + id);
    } else if (!s.attach(channel, fromSeq)) {
      refuser.refuse(
          channel,
          ChannelReason.CHANNEL_REASON_LIMIT_REACHED,
          "the session has " + AgentSession.MAX_WATCHERS + " watchers already");
    }
  }

  private void list(SecureChannel channel) {
    JsonArray list = new JsonArray();
    sessions.values().forEach(s -> list.add(s.summary()));
    answer(
        channel,
        List.of(AgentFrames.of(AgentFrames.Type.SESSIONS, new JsonObject().put("sessions", list))));
  }

  private void transcript(SecureChannel channel, String id, long from, int limit) {
    Path dir = root.resolve(id);
    if (!SESSION_ID.matcher(id).matches()) {
      refuser.refuse(
          channel, ChannelReason.CHANNEL_REASON_UNKNOWN_SESSION, "no agent session " + id);
      return;
    }
    AgentSession live = sessions.get(id);
    context
        .executeBlocking(
            () -> {
              if (live != null) {
                live.awaitWritten(5_000); // frames already shown are on disk before the page
              }
              return Files.isDirectory(dir)
                  ? new Transcript(dir).page(Math.max(1, from), limit)
                  : null;
            },
            false)
        .onComplete(
            ar -> {
              if (ar.failed() || ar.result() == null) {
                refuser.refuse(
                    channel,
                    ChannelReason.CHANNEL_REASON_UNKNOWN_SESSION,
                    "no transcript of agent session " + id);
                return;
              }
              Transcript.Page p = ar.result();
              List<AgentFrame> frames = new ArrayList<>(p.frames());
              frames.add(
                  AgentFrames.of(
                      AgentFrames.Type.PAGE,
                      new JsonObject().put("next_seq", p.nextSeq()).put("more", p.more())));
              answer(channel, frames);
            });
  }

  /** {@code started}, the frames, and the channel closes once they were acknowledged. */
  private static void answer(SecureChannel channel, List<AgentFrame> frames) {
    channel.send(ChannelMessage.newBuilder().setStarted(Started.getDefaultInstance()).build());
    for (AgentFrame f : frames) {
      channel.send(AgentFrames.message(f.bytes()));
    }
    channel.closeWhenDrained();
  }

  /**
   * Blocking (a worker thread, never the context): starts the configured runtime {@code runtimeId}
   * for a workflow step run on channel {@code channelId}, with no watcher, and gives it {@code
   * prompt} (empty: nothing) as its first prompt. Empty when no such runtime is configured or the
   * machine runs {@link #MAX_LIVE} sessions already. The session is listed and watched like any.
   */
  public Optional<StepSession> startForStep(String runtimeId, String prompt, long channelId)
      throws IOException {
    CompletableFuture<Boolean> room = new CompletableFuture<>();
    context.runOnContext(
        v -> {
          boolean free = liveCount() + starting < MAX_LIVE;
          starting += free ? 1 : 0;
          room.complete(free);
        });
    if (!room.join()) {
      log.warn("workflow agent step not started: {} sessions run already", MAX_LIVE);
      return Optional.empty();
    }
    AgentSession s = null;
    try {
      AgentRuntimes.Runtime runtime = runtimes.find(runtimeId).orElse(null);
      if (runtime == null) {
        log.atWarn()
            .addKeyValue("runtime", runtimeId)
            .log("workflow agent step not started: no such runtime is configured");
        return Optional.empty();
      }
      String id = ids.get();
      Path dir = KeyFiles.ensurePrivateDirectories(home, root.resolve(id));
      AgentSession made =
          new AgentSession(id, runtime, channelId, context, dir, audit, inbox, clock);
      made.spawn(home, "");
      s = made;
      if (!prompt.isEmpty()) {
        s.prompt(prompt);
      }
      log.atInfo()
          .addKeyValue("session", id)
          .addKeyValue("channel", Long.toHexString(channelId))
          .log("agent session started by a workflow step");
      return Optional.of(s);
    } finally {
      AgentSession started = s;
      context.runOnContext(
          v -> {
            starting--;
            if (started != null) {
              keep(started);
            }
          });
    }
  }

  /** The daemon stops: every runtime is ended. */
  public void stop() {
    sessions.values().forEach(AgentSession::stop);
  }

  /** Live sessions (tests, status). */
  public long liveCount() {
    return sessions.values().stream().filter(AgentSession::live).count();
  }
}
