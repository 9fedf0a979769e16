package dev.umbra.daemon.channel;

import com.google.protobuf.ByteString;
import dev.umbra.client.channel.ChannelClosedException;
import dev.umbra.client.channel.ChannelProtocol;
import dev.umbra.client.channel.SecureChannel;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.PrivateFiles;
import dev.umbra.daemon.audit.DaemonAudit;
import dev.umbra.proto.channel.ChannelError;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.ChannelReason;
import dev.umbra.proto.channel.ChannelReasons;
import dev.umbra.proto.channel.ExitStatus;
import dev.umbra.proto.channel.RunCommand;
import dev.umbra.proto.channel.Started;
import dev.umbra.proto.channel.Stream;
import dev.umbra.proto.channel.StreamData;
import io.vertx.core.Context;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;

/**
 * A command run for a client: the process's stdin, stdout and stderr cross the channel; its
 * transcript is written only here, under {@code UMBRA_HOME/sessions/<session-id>/} (0700 directory,
 * 0600 files: {@code meta.json}, {@code stdin}, {@code stdout}, {@code stderr}, {@code exit}), and
 * never sent to any service. Output readers block while the channel window is full, so a client
 * that is away (relay restart) pauses the process on its pipes instead of losing output.
 */
final class CommandSession implements SecureChannel.Listener {
  private static final byte[] EOF = new byte[0];
  private static final int STDIN_HIGH = 64;
  private static final int STDIN_LOW = 8;

  private final Context context;
  private final SecureChannel channel;
  private final RunCommand command;
  private final Path sessions;
  private final String clientKey;
  private final String sessionId;
  private final LinkedBlockingQueue<byte[]> stdin = new LinkedBlockingQueue<>();
  private final Semaphore inFlight = new Semaphore(4);
  private final java.util.concurrent.atomic.AtomicLong bytesIn =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong bytesOut =
      new java.util.concurrent.atomic.AtomicLong();
  private final Object windowLock = new Object();
  private volatile boolean writable = true;
  private volatile boolean over;
  private Process process;
  private Path dir;
  private boolean stdinHeld;
  private final DaemonAudit.Sink audit;
  private final Clock clock;

  CommandSession(
      Context context,
      SecureChannel channel,
      RunCommand command,
      Path sessions,
      String clientKey,
      String sessionId,
      DaemonAudit.Sink audit,
      Clock clock) {
    this.audit = audit;
    this.clock = clock;
    this.context = context;
    this.channel = channel;
    this.command = command;
    this.sessions = sessions;
    this.clientKey = clientKey;
    this.sessionId = sessionId;
  }

  /** Starts the process off the event loop; reports back on the channel's context. */
  void start() {
    long startedNanos = System.nanoTime();
    channel.listener(this);
    context
        .executeBlocking(this::spawn, false)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                String why =
                    ar.cause() instanceof IOException
                        ? ar.cause().getMessage()
                        : String.valueOf(ar.cause());
                channel.send(
                    ChannelMessage.newBuilder()
                        .setError(
                            ChannelError.newBuilder()
                                .setCode(
                                    ChannelReasons.wire(ChannelReason.CHANNEL_REASON_START_FAILED))
                                .setMessage("cannot start the command: " + why))
                        .build());
                channel.closeWhenDrained();
                audit.report(DaemonAudit.Report.commandNotStarted(channel.channelId()));
                return;
              }
              process = ar.result();
              running(startedNanos);
            });
  }

  /**
   * Blocking (a worker thread): the session's directory and metadata (never the command's output),
   * then the process.
   */
  private Process spawn() throws IOException {
    dir =
        KeyFiles.ensurePrivateDirectory(
            KeyFiles.ensurePrivateDirectory(sessions).resolve(sessionId));
    JsonObject meta =
        new JsonObject()
            .put("session_id", sessionId)
            .put("argv", new JsonArray(command.getArgvList()))
            .put("cwd", command.getCwd())
            .put("client_static_key", clientKey)
            .put("started_at", clock.instant().toString());
    write("meta.json", meta.encodePrettily().getBytes(StandardCharsets.UTF_8));
    ProcessBuilder pb = new ProcessBuilder(command.getArgvList());
    if (!command.getCwd().isEmpty()) {
      pb.directory(Path.of(command.getCwd()).toFile());
    }
    return pb.start();
  }

  /**
   * The process runs: STARTED to the client, its streams pumped on virtual threads, and once both
   * outputs ended and it exited, the exit status to the client and to the audit.
   */
  private void running(long startedNanos) {
    channel.send(
        ChannelMessage.newBuilder()
            .setStarted(Started.newBuilder().setSessionId(sessionId))
            .build());
    Thread out =
        Thread.ofVirtual()
            .start(() -> pump(process.getInputStream(), Stream.STREAM_STDOUT, "stdout"));
    Thread err =
        Thread.ofVirtual()
            .start(() -> pump(process.getErrorStream(), Stream.STREAM_STDERR, "stderr"));
    Thread.ofVirtual().start(this::feedStdin);
    Thread.ofVirtual()
        .start(
            () -> {
              int code;
              try {
                out.join();
                err.join();
                code = process.waitFor();
              } catch (InterruptedException e) {
                code = -1;
              }
              int exit = code;
              long durationMs = (System.nanoTime() - startedNanos) / 1_000_000;
              write("exit", (exit + "\n").getBytes(StandardCharsets.UTF_8));
              context.runOnContext(
                  v -> {
                    channel.send(
                        ChannelMessage.newBuilder()
                            .setExit(ExitStatus.newBuilder().setCode(exit))
                            .build());
                    channel.closeWhenDrained();
                    over = true;
                    stdin.offer(EOF);
                    // after the exit status is on its way: the report's signature and request are
                    // not the client's wait. Exit status and duration only: never the command line
                    // or a byte of its output, only how many bytes crossed
                    audit.report(
                        DaemonAudit.Report.commandRun(
                            channel.channelId(), exit, durationMs, bytesIn.get(), bytesOut.get()));
                  });
            });
  }

  private void write(String file, byte[] bytes) {
    try {
      PrivateFiles.append(dir.resolve(file), bytes);
    } catch (IOException e) {
      // a transcript that cannot be written must not stop the command; the failure is visible on
      // disk
    }
  }

  /** Reads one output stream and sends it in chunks, waiting for window room (reader thread). */
  private void pump(InputStream in, Stream stream, String file) {
    byte[] buf = new byte[ChannelProtocol.CHUNK_BYTES];
    try (in) {
      int n;
      while ((n = in.read(buf)) > 0) {
        byte[] chunk = java.util.Arrays.copyOf(buf, n);
        bytesOut.addAndGet(n);
        write(file, chunk);
        awaitWindow();
        inFlight.acquire();
        context.runOnContext(
            v -> {
              inFlight.release();
              boolean room =
                  channel.send(
                      ChannelMessage.newBuilder()
                          .setData(
                              StreamData.newBuilder()
                                  .setStream(stream)
                                  .setBytes(ByteString.copyFrom(chunk)))
                          .build());
              if (!room) {
                writable = false;
              }
            });
      }
    } catch (IOException | InterruptedException e) {
      // process ended or was destroyed
    }
  }

  private void awaitWindow() throws InterruptedException {
    synchronized (windowLock) {
      while (!writable && !over && !channel.closed()) {
        windowLock.wait(200);
      }
    }
  }

  @Override
  public void onWritable() {
    synchronized (windowLock) {
      writable = true;
      windowLock.notifyAll();
    }
  }

  private void feedStdin() {
    OutputStream os = process.getOutputStream();
    try (os) {
      while (true) {
        byte[] b = stdin.take();
        if (b == EOF) {
          return;
        }
        write("stdin", b);
        os.write(b);
        os.flush();
        if (stdin.size() <= STDIN_LOW) {
          context.runOnContext(
              v -> {
                if (stdinHeld) {
                  stdinHeld = false;
                  channel.holdAcks(false);
                }
              });
        }
      }
    } catch (IOException | InterruptedException e) {
      // the process closed its stdin
    }
  }

  @Override
  public void onMessage(ChannelMessage m) {
    switch (m.getBodyCase()) {
      case DATA -> {
        if (m.getData().getStream() == Stream.STREAM_STDIN) {
          bytesIn.addAndGet(m.getData().getBytes().size());
          stdin.offer(m.getData().getBytes().toByteArray());
          if (stdin.size() >= STDIN_HIGH && !stdinHeld) {
            stdinHeld = true;
            channel.holdAcks(true);
          }
        }
      }
      case END -> stdin.offer(EOF);
      default -> {
        // nothing else is meaningful from the client
      }
    }
  }

  @Override
  public void onClosed(ChannelClosedException error) {
    over = true;
    onWritable();
    stdin.offer(EOF);
    Process p = process;
    if (p != null && p.isAlive()) {
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
    }
  }
}
