package dev.umbra.cli.relay;

import com.google.protobuf.ByteString;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.client.channel.ChannelClosedException;
import dev.umbra.client.channel.ChannelProtocol;
import dev.umbra.client.channel.SecureChannel;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.ChannelStart;
import dev.umbra.proto.channel.RunCommand;
import dev.umbra.proto.channel.Stream;
import dev.umbra.proto.channel.StreamData;
import dev.umbra.proto.channel.StreamEnd;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.List;

/**
 * Runs a command on a machine through a channel: local stdin goes to the command, its stdout and
 * stderr come back to the given streams, and the future completes with its exit status. Output
 * written before the exit status always arrives before it (one ordered channel).
 */
public final class RemoteRun implements SecureChannel.Listener {
  private final Context context;
  private final OutputStream out;
  private final OutputStream err;
  private final Promise<Integer> exit = Promise.promise();
  private final Object window = new Object();
  private volatile boolean writable = true;
  private SecureChannel channel;

  private RemoteRun(Context context, OutputStream out, OutputStream err) {
    this.context = context;
    this.out = out;
    this.err = err;
  }

  /** Starts {@code argv} on {@code target}; stdin may be null (the command gets an immediate end of input). */
  public static Future<Integer> run(
      RelayClient client, String target, X25519PublicKey daemonKey, List<String> argv, InputStream stdin, OutputStream out, OutputStream err) {
    RemoteRun run = new RemoteRun(client.context(), out, err);
    ChannelStart start = ChannelStart.newBuilder().setRun(RunCommand.newBuilder().addAllArgv(argv)).build();
    return client.open(target, daemonKey, start).compose(opened -> {
      run.channel = opened.channel();
      opened.listen(run);
      if (stdin == null) {
        run.endStdin();
      } else {
        Thread.ofVirtual().name("umbra-run-stdin").start(() -> run.pumpStdin(stdin));
      }
      return run.exit.future();
    });
  }

  private void endStdin() {
    context.runOnContext(v -> channel.send(ChannelMessage.newBuilder().setEnd(StreamEnd.newBuilder().setStream(Stream.STREAM_STDIN)).build()));
  }

  private void pumpStdin(InputStream in) {
    byte[] buf = new byte[ChannelProtocol.CHUNK_BYTES];
    try {
      int n;
      while ((n = in.read(buf)) > 0 && !exit.future().isComplete()) {
        byte[] chunk = Arrays.copyOf(buf, n);
        synchronized (window) {
          while (!writable && !exit.future().isComplete()) {
            window.wait(200);
          }
        }
        context.runOnContext(v -> {
          if (!channel.send(ChannelMessage.newBuilder()
              .setData(StreamData.newBuilder().setStream(Stream.STREAM_STDIN).setBytes(ByteString.copyFrom(chunk)))
              .build())) {
            writable = false;
          }
        });
      }
    } catch (IOException | InterruptedException e) {
      // stdin closed
    }
    if (!exit.future().isComplete()) {
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
          exit.tryComplete(m.getExit().getCode());
          channel.close();
        }
        case ERROR -> exit.tryFail(new ChannelClosedException(m.getError().getCode(), m.getError().getMessage()));
        default -> {
          // nothing else comes from a command
        }
      }
    } catch (IOException e) {
      exit.tryFail(e);
      channel.fail("client_output_failed");
    }
  }

  @Override
  public void onClosed(ChannelClosedException error) {
    onWritable();
    exit.tryFail(error != null ? error : new ChannelClosedException("closed", "the machine closed the session before the command finished"));
  }
}
