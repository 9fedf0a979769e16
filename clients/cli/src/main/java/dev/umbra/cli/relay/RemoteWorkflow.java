package dev.umbra.cli.relay;

import com.google.protobuf.ByteString;
import dev.umbra.client.channel.ChannelClosedException;
import dev.umbra.client.channel.OpenedChannel;
import dev.umbra.client.channel.PlainRelayClient;
import dev.umbra.client.channel.SecureChannel;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.proto.channel.ChannelMessage;
import dev.umbra.proto.channel.ChannelReason;
import dev.umbra.proto.channel.ChannelStart;
import dev.umbra.proto.channel.MessageChannel;
import dev.umbra.proto.channel.Stream;
import dev.umbra.proto.channel.StreamData;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;

/**
 * Asks a machine's daemon to run a workflow over an end-to-end encrypted relay channel (the {@code
 * workflow} message topic, docs/agents.md "Workflow runs"): sends the part of a run asked of the
 * machine ({@code {"name","version","run_id","inputs","steps","prior"}}), writes the steps' output
 * it receives to {@code out}/{@code err} and one line per step to {@code err}, and completes with
 * the daemon's {@code end} message ({@code outcome}, {@code reason}, {@code message}) with {@code
 * steps}, each step's status as the daemon told it.
 */
public final class RemoteWorkflow implements SecureChannel.Listener {
  private final PrintStream out;
  private final PrintStream err;
  private final CompletableFuture<JsonObject> end = new CompletableFuture<>();
  private final JsonObject steps = new JsonObject();
  private SecureChannel channel;

  private RemoteWorkflow(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  public static CompletableFuture<JsonObject> run(
      PlainRelayClient client,
      String target,
      X25519PublicKey daemonKey,
      JsonObject part,
      PrintStream out,
      PrintStream err) {
    RemoteWorkflow run = new RemoteWorkflow(out, err);
    ChannelStart start =
        ChannelStart.newBuilder()
            .setMessage(MessageChannel.newBuilder().setTopic("workflow"))
            .build();
    byte[] request = part.encode().getBytes(StandardCharsets.UTF_8);
    return client
        .open(target, daemonKey, start)
        .thenCompose(
            (OpenedChannel opened) -> {
              run.channel = opened.channel();
              opened.listen(run);
              client
                  .executor()
                  .execute(
                      () ->
                          run.channel.send(
                              ChannelMessage.newBuilder()
                                  .setData(
                                      StreamData.newBuilder()
                                          .setStream(Stream.STREAM_MESSAGE)
                                          .setBytes(ByteString.copyFrom(request)))
                                  .build()));
              return run.end;
            });
  }

  @Override
  public void onMessage(ChannelMessage m) {
    if (m.getBodyCase() == ChannelMessage.BodyCase.ERROR) {
      end.completeExceptionally(
          new ChannelClosedException(m.getError().getCode(), m.getError().getMessage()));
      return;
    }
    if (m.getBodyCase() != ChannelMessage.BodyCase.DATA
        || m.getData().getStream() != Stream.STREAM_MESSAGE) {
      return;
    }
    JsonObject e;
    try {
      e = new JsonObject(m.getData().getBytes().toString(StandardCharsets.UTF_8));
    } catch (RuntimeException x) {
      return;
    }
    switch (e.getString("event", "")) {
      case "output" -> {
        try {
          ("stderr".equals(e.getString("stream")) ? err : out)
              .write(Base64.getDecoder().decode(e.getString("data", "")));
        } catch (IOException | IllegalArgumentException x) {
          channel.fail(ChannelReason.CHANNEL_REASON_CLIENT_OUTPUT_FAILED);
        }
      }
      case "step" -> {
        steps.put(e.getString("id", ""), e.getString("status", ""));
        err.println(
            "step "
                + e.getString("id")
                + ": "
                + e.getString("status")
                + (e.getInteger("exit_status", -1) >= 0
                    ? " (exit " + e.getInteger("exit_status") + ")"
                    : ""));
      }
      case "end" -> {
        end.complete(e.put("steps", steps));
        channel.close();
      }
      default -> {
        // a newer daemon's event: ignored
      }
    }
  }

  @Override
  public void onClosed(ChannelClosedException error) {
    end.completeExceptionally(
        error != null
            ? error
            : new ChannelClosedException(
                ChannelReason.CHANNEL_REASON_CLOSED,
                "the machine closed the channel before the workflow ended"));
  }
}
