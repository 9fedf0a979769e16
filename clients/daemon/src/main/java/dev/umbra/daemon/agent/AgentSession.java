package dev.umbra.daemon.agent;

import dev.umbra.client.agent.AgentFrame;
import dev.umbra.client.agent.AgentFrames;
import dev.umbra.crypto.keys.PrivateFiles;
import dev.umbra.daemon.audit.DaemonAudit;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.ChannelReason;
import dev.umbra.proto.channel.ExitStatus;
import dev.umbra.proto.channel.Started;
import io.vertx.core.Context;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One agent session (docs/agents.md, "Agent sessions"): a configured runtime's process, the frames
 * it writes numbered in order and kept in its {@link Transcript} and in a bounded ring for
 * re-attaching watchers, fanned out to every {@link Watcher}, and prompts and approvals from them
 * written to its stdin. The session does not depend on anyone watching: it runs until its runtime
 * exits (or the daemon stops), and then reports its run record (counts only).
 */
final class AgentSession implements StepSession {
  static final int MAX_WATCHERS = 8;
  static final int RING_FRAMES = 1000;
  static final long RING_BYTES = 2L * 1024 * 1024;
  static final int STDIN_FRAMES = 64;
  static final int MAX_PENDING_APPROVALS = 64;
  static final long STDERR_BYTES = 1024 * 1024;
  private static final byte[] EOF = new byte[0];

  private final String id;
  private final AgentRuntimes.Runtime runtime;
  private final long channelId;
  private final Context context;
  private final Path dir;
  private final Transcript transcript;
  private final DaemonAudit.Sink audit;
  private final Clock clock;
  private final Instant startedAt;
  private final long startedNanos = System.nanoTime();
  private final Object lock = new Object();
  private final ArrayDeque<AgentFrame> ring = new ArrayDeque<>();
  private final List<Watcher> watchers = new ArrayList<>();
  private final Set<String> pendingApprovals = new HashSet<>();
  private final BlockingQueue<byte[]> stdin = new ArrayBlockingQueue<>(STDIN_FRAMES + 1);
  private final AtomicLong bytesIn = new AtomicLong();
  private final AtomicLong bytesOut = new AtomicLong();
  private final BlockingQueue<AgentFrame> toTranscript = new LinkedBlockingQueue<>();
  private final InboxRequests inbox;
  private long seq;
  private long ringBytes;
  private boolean exited;
  private final Object writtenMonitor = new Object();
  private long written;
  private Process process;
  private Instant endedAt;
  private volatile Integer exitCode;
  private String clientKey = "";
  private final CompletableFuture<Integer> exit = new CompletableFuture<>();

  AgentSession(
      String id,
      AgentRuntimes.Runtime runtime,
      long channelId,
      Context context,
      Path dir,
      DaemonAudit.Sink audit,
      AgentInbox inbox,
      Clock clock) {
    this.id = id;
    this.runtime = runtime;
    this.channelId = channelId;
    this.context = context;
    this.dir = dir;
    this.transcript = new Transcript(dir);
    this.audit = audit;
    this.clock = clock;
    this.startedAt = clock.instant();
    this.inbox = new InboxRequests(inboxSession(), inbox, clock);
  }

  /** What the session's inbox requests see of it. */
  private InboxRequests.Session inboxSession() {
    return new InboxRequests.Session() {
      @Override
      public String id() {
        return id;
      }

      @Override
      public boolean live() {
        return AgentSession.this.live();
      }

      @Override
      public void publish(AgentFrame f) {
        AgentSession.this.publish(f);
      }

      @Override
      public void toRuntime(AgentFrame f) {
        AgentSession.this.toRuntime(f);
      }
    };
  }

  @Override
  public String id() {
    return id;
  }

  /**
   * A workflow step's first prompt (worker thread): to the runtime's stdin and into the frames and
   * the transcript, as a watcher's prompt would be.
   */
  void prompt(String text) {
    AgentFrame f = AgentFrames.of(AgentFrames.Type.PROMPT, new JsonObject().put("text", text));
    bytesIn.addAndGet(f.json().encode().getBytes(StandardCharsets.UTF_8).length);
    toRuntime(f);
    publish(f);
  }

  @Override
  public OptionalInt await(Duration wait) throws InterruptedException {
    try {
      return OptionalInt.of(exit.get(wait.toMillis(), TimeUnit.MILLISECONDS));
    } catch (TimeoutException e) {
      return OptionalInt.empty();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  @Override
  public long bytesIn() {
    return bytesIn.get();
  }

  @Override
  public long bytesOut() {
    return bytesOut.get();
  }

  boolean live() {
    return exitCode == null;
  }

  /**
   * Blocking (a worker thread): the session's metadata (never a frame), then the process and its
   * reader, writer and stderr threads.
   */
  void spawn(Path home, String clientKey) throws IOException {
    this.clientKey = clientKey;
    PrivateFiles.replace(dir.resolve("meta.json"), record().encodePrettily());
    ProcessBuilder pb = new ProcessBuilder(runtime.argv());
    pb.directory((runtime.cwd().isEmpty() ? home : Path.of(runtime.cwd())).toFile());
    pb.environment().put("UMBRA_AGENT_SESSION", id);
    process = pb.start();
    Thread.ofVirtual().start(this::writeTranscript);
    Thread.ofVirtual().start(this::readFrames);
    Thread.ofVirtual().start(this::feedStdin);
    Thread.ofVirtual().start(() -> keepStderr(process.getErrorStream()));
  }

  /** The list entry of this session: ids, runtime, times, state and counts. */
  JsonObject summary() {
    JsonObject s = meta().put("watchers", watchers.size());
    synchronized (lock) {
      s.put("frames", seq);
    }
    return s;
  }

  /**
   * What {@code meta.json} holds on the machine: the summary, the command line, the starter's key.
   */
  private JsonObject record() {
    return meta().put("argv", runtime.argv()).put("client_static_key", clientKey);
  }

  private JsonObject meta() {
    JsonObject m =
        new JsonObject()
            .put("session_id", id)
            .put("runtime", runtime.id())
            .put("started_at", startedAt.toString())
            .put("state", exitCode == null ? "running" : "ended");
    if (exitCode != null) {
      m.put("ended_at", endedAt.toString())
          .put("exit_status", exitCode)
          .put("bytes_in", bytesIn.get())
          .put("bytes_out", bytesOut.get());
    }
    return m;
  }

  /** The runtime's stdout, frame by frame, until it ends; then its exit (reader thread). */
  private void readFrames() {
    try (InputStream in = process.getInputStream()) {
      RuntimeFrameReader reader = new RuntimeFrameReader(in);
      while (true) {
        RuntimeFrameReader.Item item = reader.next();
        if (item instanceof RuntimeFrameReader.Frame f) {
          bytesOut.addAndGet(f.bytes());
          publish(f.frame());
          if (f.frame().type() == AgentFrames.Type.INBOX_REQUEST) {
            inbox.request(f.frame());
          }
        } else if (item instanceof RuntimeFrameReader.Refused r) {
          bytesOut.addAndGet(r.bytes());
          publish(status("runtime_error", "frame refused: " + r.refusal().wire()));
        } else {
          break;
        }
      }
    } catch (IOException e) {
      // the process ended or was destroyed
    }
    int code;
    try {
      code = process.waitFor();
    } catch (InterruptedException e) {
      code = -1;
    }
    ended(code < 0 || code > 255 ? -1 : code);
  }

  private static AgentFrame status(String state, String message) {
    return AgentFrames.of(
        AgentFrames.Type.STATUS, new JsonObject().put("state", state).put("message", message));
  }

  /**
   * Numbers {@code f}, keeps it (transcript, ring) and hands it to the watchers, in one order for
   * everyone: the fan-out is queued on the context under the same lock that gives the number.
   */
  private void publish(AgentFrame f) {
    synchronized (lock) {
      if (exited) {
        return; // nothing follows the exit frame (a late inbox answer)
      }
      exited = f.type() == AgentFrames.Type.EXIT;
      AgentFrame numbered = f.numbered(++seq);
      if (f.type() == AgentFrames.Type.APPROVAL_REQUEST
          && pendingApprovals.size() < MAX_PENDING_APPROVALS) {
        pendingApprovals.add(f.text("id"));
      }
      // written by the transcript's own thread, in this order: never a file write on the context
      toTranscript.add(numbered);
      ring.addLast(numbered);
      ringBytes += numbered.bytes().length;
      while (ring.size() > RING_FRAMES || ringBytes > RING_BYTES) {
        ringBytes -= ring.removeFirst().bytes().length;
      }
      context.runOnContext(v -> fanOut(numbered));
    }
  }

  /**
   * On the context: the frame to every watcher; one more than a window and the ring behind is
   * detached ({@code watcher_behind}) rather than queued without bound.
   */
  private void fanOut(AgentFrame f) {
    for (Watcher w : List.copyOf(watchers)) {
      if (!w.send(f)) {
        watchers.remove(w);
        w.channel().fail(ChannelReason.CHANNEL_REASON_WATCHER_BEHIND);
      }
    }
  }

  /**
   * On the context: {@code channel} watches from frame {@code fromSeq} (0: only new ones). It gets
   * {@code started}, then the kept frames from there (a notice {@code older_in_transcript} when
   * some were before the ring: page the transcript for them), then every new one.
   */
  boolean attach(dev.umbra.client.channel.SecureChannel channel, long fromSeq) {
    if (watchers.size() >= MAX_WATCHERS) {
      return false;
    }
    List<AgentFrame> kept;
    long last;
    synchronized (lock) {
      kept = List.copyOf(ring);
      last = seq;
    }
    Watcher w = new Watcher(channel, this, fromSeq > 0 ? fromSeq - 1 : last);
    channel.listener(w);
    channel.send(
        ChannelMessage.newBuilder().setStarted(Started.newBuilder().setSessionId(id)).build());
    if (fromSeq > 0 && (kept.isEmpty() ? last >= fromSeq : kept.get(0).seq() > fromSeq)) {
      w.send(
          AgentFrames.of(
              AgentFrames.Type.NOTICE, new JsonObject().put("code", "older_in_transcript")));
    }
    for (AgentFrame f : kept) {
      w.send(f);
    }
    if (exitCode != null) {
      closeWatcher(w);
    } else {
      watchers.add(w);
    }
    return true;
  }

  void detach(Watcher w) {
    watchers.remove(w);
  }

  /** On the context: a watcher's frame (a prompt or an approval), or a notice why not. */
  void fromClient(Watcher w, byte[] bytes) {
    AgentFrame f;
    try {
      f = AgentFrames.parse(bytes, AgentFrames.Source.CLIENT);
    } catch (AgentFrames.FrameException e) {
      notice(w, e.refusal().wire());
      return;
    }
    if (exitCode != null) {
      notice(w, "session_ended");
      return;
    }
    if (f.type() == AgentFrames.Type.APPROVAL) {
      boolean pending;
      synchronized (lock) {
        pending = pendingApprovals.remove(f.text("id"));
      }
      if (!pending) {
        notice(w, AgentFrames.Refusal.REPLAYED.wire());
        return;
      }
    }
    boolean taken;
    // handed to the runtime and numbered under the lock the runtime's own frames are numbered
    // under: its answer (read on another thread) is numbered after the frame it answers, so a
    // watcher never sees the runtime react to an approval it has not been shown yet
    synchronized (lock) {
      taken = stdin.offer((f.json().encode() + "\n").getBytes(StandardCharsets.UTF_8));
      if (taken) {
        bytesIn.addAndGet(bytes.length);
        publish(f);
      }
    }
    if (!taken) {
      notice(w, "busy");
    }
  }

  private static void notice(Watcher w, String code) {
    w.send(AgentFrames.of(AgentFrames.Type.NOTICE, new JsonObject().put("code", code)));
  }

  /**
   * Appends the numbered frames to the transcript in their order, until the exit frame (transcript
   * thread): {@link #publish} runs on the context for a watcher's frame, and must not write files
   * there.
   */
  private void writeTranscript() {
    while (true) {
      AgentFrame f;
      try {
        f = toTranscript.take();
      } catch (InterruptedException e) {
        return;
      }
      try {
        transcript.append(f);
      } catch (IOException e) {
        // a transcript that cannot be written must not stop the session; visible on disk
      }
      synchronized (writtenMonitor) {
        written = f.seq();
        writtenMonitor.notifyAll();
      }
      if (f.type() == AgentFrames.Type.EXIT) {
        return;
      }
    }
  }

  /**
   * Blocking: waits (at most {@code maxMs}) until every frame numbered so far is in the transcript
   * files, so a page read after a frame was shown holds it.
   */
  void awaitWritten(long maxMs) throws InterruptedException {
    long target;
    synchronized (lock) {
      target = seq;
    }
    long until = System.nanoTime() + maxMs * 1_000_000;
    synchronized (writtenMonitor) {
      while (written < target) {
        long left = (until - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          return;
        }
        writtenMonitor.wait(left);
      }
    }
  }

  /**
   * A daemon frame for the runtime (an inbox answer), on its stdin after what waits there; blocks
   * while 64 lines wait, gives up when the session ended.
   */
  private void toRuntime(AgentFrame f) {
    byte[] line = (f.json().encode() + "\n").getBytes(StandardCharsets.UTF_8);
    try {
      while (live()) {
        if (stdin.offer(line, 1, TimeUnit.SECONDS)) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Writes watchers' frames to the runtime's stdin, one line each (writer thread). */
  private void feedStdin() {
    try (OutputStream os = process.getOutputStream()) {
      while (true) {
        byte[] line = stdin.take();
        if (line == EOF) {
          return;
        }
        os.write(line);
        os.flush();
      }
    } catch (IOException | InterruptedException e) {
      // the runtime closed its stdin
    }
  }

  /** Keeps the runtime's stderr beside the transcript, up to a bound (never streamed). */
  private void keepStderr(InputStream err) {
    byte[] buf = new byte[8192];
    long kept = 0;
    try (err) {
      int n;
      while ((n = err.read(buf)) > 0) {
        if (kept < STDERR_BYTES) {
          int take = (int) Math.min(n, STDERR_BYTES - kept);
          PrivateFiles.append(dir.resolve("stderr"), java.util.Arrays.copyOf(buf, take));
          kept += take;
        }
      }
    } catch (IOException e) {
      // the process ended
    }
  }

  /** The runtime exited: an exit frame, the watchers' channels end, the record is reported. */
  private void ended(int code) {
    publish(AgentFrames.of(AgentFrames.Type.EXIT, new JsonObject().put("code", code)));
    long durationMs = (System.nanoTime() - startedNanos) / 1_000_000;
    context.runOnContext(
        v -> {
          exitCode = code;
          endedAt = clock.instant();
          exit.complete(code);
          stdin.clear();
          stdin.offer(EOF);
          for (Watcher w : List.copyOf(watchers)) {
            closeWatcher(w);
          }
          watchers.clear();
          JsonObject meta = record();
          context.executeBlocking(
              () -> {
                PrivateFiles.replace(dir.resolve("meta.json"), meta.encodePrettily());
                return null;
              },
              false);
          // counts and the exit status only: never a frame, a prompt or the runtime's command line
          audit.report(
              DaemonAudit.Report.agentSessionEnded(
                  channelId, runtime.id(), code, durationMs, bytesIn.get(), bytesOut.get()));
        });
  }

  private void closeWatcher(Watcher w) {
    w.channel()
        .send(
            ChannelMessage.newBuilder().setExit(ExitStatus.newBuilder().setCode(exitCode)).build());
    w.channel().closeWhenDrained();
  }

  /**
   * The daemon stops, or a step's time is up: the runtime is ended (its exit reported as usual).
   */
  @Override
  public void stop() {
    Process p = process;
    if (p != null && p.isAlive()) {
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
    }
  }
}
