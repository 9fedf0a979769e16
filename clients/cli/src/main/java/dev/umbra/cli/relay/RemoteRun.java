package dev.umbra.cli.relay;

import com.google.protobuf.ByteString;
import dev.umbra.client.channel.ChannelClosedException;
import dev.umbra.client.channel.ChannelProtocol;
import dev.umbra.client.channel.OpenedChannel;
import dev.umbra.client.channel.PlainRelayClient;
import dev.umbra.client.channel.SecureChannel;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.ChannelReason;
import dev.umbra.proto.channel.ChannelStart;
import dev.umbra.proto.channel.RunCommand;
import dev.umbra.proto.channel.Stream;
import dev.umbra.proto.channel.StreamData;
import dev.umbra.proto.channel.StreamEnd;
import io.vertx.core.Future;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Runs a command on a machine through a channel: local stdin goes to the command, its stdout and
 * stderr come back to the given streams, and the future completes with its exit status. Output
 * written before the exit status always arrives before it (one ordered channel). The same over
 * either relay client: the plain one of {@code umbra run} and the Vert.x one (tests, benchmarks).
 */
public final class RemoteRun implements SecureChannel.Listener {
  private final Executor loop;
  private final OutputStream out;
  private final OutputStream err;
  private final CompletableFuture<Integer> exit = new CompletableFuture<>();
  private final Object window = new Object();
  private volatile boolean writable = true;
  private SecureChannel channel;

  private RemoteRun(Executor loop, OutputStream out, OutputStream err) {
    this.loop = loop;
    this.out = out;
    this.err = err;
  }

  /**
   * Starts {@code argv} on {@code target}; stdin may be null (the command gets an immediate end of
   * input).
   */
  public static CompletableFuture<Integer> run(
      PlainRelayClient client,
      String target,
      X25519PublicKey daemonKey,
      List<String> argv,
      InputStream stdin,
      OutputStream out,
      OutputStream err) {
    return run(client.executor(), client.open(target, daemonKey, start(argv)), stdin, out, err);
  }

  /** As above, over the Vert.x client. */
  public static Future<Integer> run(
      RelayClient client,
      String target,
      X25519PublicKey daemonKey,
      List<String> argv,
      InputStream stdin,
      OutputStream out,
      OutputStream err) {
    Executor context = task -> client.context().runOnContext(v -> task.run());
    CompletableFuture<OpenedChannel> opened =
        client.open(target, daemonKey, start(argv)).toCompletionStage().toCompletableFuture();
    return Future.fromCompletionStage(run(context, opened, stdin, out, err), client.context());
  }

  private static ChannelStart start(List<String> argv) {
    return ChannelStart.newBuilder().setRun(RunCommand.newBuilder().addAllArgv(argv)).build();
  }

  /** Runs the command on the channel being opened, whose listeners run on {@code loop}. */
  private static CompletableFuture<Integer> run(
      Executor loop,
      CompletableFuture<OpenedChannel> opening,
      InputStream stdin,
      OutputStream out,
      OutputStream err) {
    RemoteRun run = new RemoteRun(loop, out, err);
    return opening.thenCompose(
        opened -> {
          run.channel = opened.channel();
          opened.listen(run);
          if (stdin == null) {
            run.endStdin();
          } else {
            Thread.ofVirtual().name("umbra-run-stdin").start(() -> run.pumpStdin(stdin));
          }
          return run.exit;
        });
  }

  private void endStdin() {
    loop.execute(
        () ->
            channel.send(
                ChannelMessage.newBuilder()
                    .setEnd(StreamEnd.newBuilder().setStream(Stream.STREAM_STDIN))
                    .build()));
  }

  private void pumpStdin(InputStream in) {
    byte[] buf = new byte[ChannelProtocol.CHUNK_BYTES];
    try {
      int n;
      while ((n = in.read(buf)) > 0 && !exit.isDone()) {
        byte[] chunk = Arrays.copyOf(buf, n);
        synchronized (window) {
          while (!writable && !exit.isDone()) {
            window.wait(200);
          }
        }
        loop.execute(
            () -> {
              if (!channel.send(
                  ChannelMessage.newBuilder()
                      .setData(
                          StreamData.newBuilder()
                              .setStream(Stream.STREAM_STDIN)
                              .setBytes(ByteString.copyFrom(chunk)))
                      .build())) {
                writable = false;
              }
            });
      }
    } catch (IOException | InterruptedException e) {
      // stdin closed
    }
    if (!exit.isDone()) {
      endStdin();
    }
  }

  @Override
  public void onWritable() {
    synchronized (window) {
      writable = true;
      window.notifyAll();
    }
  }

  @Override
  public void onMessage(ChannelMessage m) {
    try {
      switch (m.getBodyCase()) {
        case DATA -> {
          OutputStream to = m.getData().getStream() == Stream.STREAM_STDERR ? err : out;
          m.getData().getBytes().writeTo(to);
          to.flush();
        }
        case EXIT -> {
          exit.complete(m.getExit().getCode());
          channel.close();
        }
        case ERROR ->
            exit.completeExceptionally(
                new ChannelClosedException(m.getError().getCode(), m.getError().getMessage()));
        default -> {
          // nothing else comes from a command
        }
      }
    } catch (IOException e) {
      exit.completeExceptionally(e);
      channel.fail(ChannelReason.CHANNEL_REASON_CLIENT_OUTPUT_FAILED);
    }
  }

  @Override
  public void onClosed(ChannelClosedException error) {
    onWritable();
    exit.completeExceptionally(
        error != null
            ? error
            : new ChannelClosedException(
                ChannelReason.CHANNEL_REASON_CLOSED,
                "the machine closed the session before the command finished"));
  }
}
