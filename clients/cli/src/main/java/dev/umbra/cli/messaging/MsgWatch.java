package dev.umbra.cli.messaging;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.InWorkspace;
import dev.umbra.client.messaging.LiveReceiver;
import dev.umbra.client.messaging.MessagingClient;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code umbra msg watch}: shows messages as they arrive, each once; reconnect status on stderr
 * (docs/messaging.md, "Clients").
 */
@Command(
    name = "watch",
    description =
        "Show messages live (WebSocket; polls every 15 s while it is down; reconnects after sleep).")
public final class MsgWatch extends InWorkspace {
  @Option(names = "--count", paramLabel = "<n>", description = "Exit after showing <n> messages.")
  int count;

  public MsgWatch(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(Api api, UUID w) {
    OwnerMessaging m = OwnerMessaging.open(api, w);
    MsgCommand.AgentNames names = new MsgCommand.AgentNames(api, w);
    AtomicInteger shown = new AtomicInteger();
    LiveReceiver.Listener l =
        new LiveReceiver.Listener() {
          @Override
          public void fetch() {
            try {
              MessagingClient.Fetched f = m.client.fetch();
              MsgCommand.warn(ctx.err(), f.refused());
              show();
            } catch (RuntimeException e) {
              status("fetch failed: " + e.getMessage());
            }
          }

          @Override
          public void message(JsonObject message) {
            MessagingClient.Outcome o = m.client.receive(message);
            if (o.reason() != null) {
              MsgCommand.warn(ctx.err(), List.of(o.reason()));
            }
            show();
          }

          @Override
          public void messages(List<JsonObject> messages) {
            for (MessagingClient.Outcome o : m.client.receiveAll(messages)) {
              if (o.reason() != null) {
                MsgCommand.warn(ctx.err(), List.of(o.reason()));
              }
            }
            show();
          }

          @Override
          public void status(String status) {
            ctx.err().println("umbra: " + status);
            ctx.err().flush();
          }

          private void show() {
            List<JsonObject> s = MsgCommand.show(m.client, null);
            if (output.json()) {
              s.forEach(e -> ctx.out().println(e.encode()));
            } else {
              MsgCommand.print(ctx.out(), s, e -> names.name(e.getString("sender_id")));
            }
            ctx.out().flush();
            shown.addAndGet(s.size());
          }
        };
    LiveReceiver r =
        new LiveReceiver(
            LiveReceiver.liveUrl(api.saved().controlPlaneUrl(), w),
            () -> api.session(w, "control-plane"),
            ctx.clock(),
            Duration.ofSeconds(15),
            l,
            ctx.http().tls());
    try {
      r.run(() -> count > 0 && shown.get() >= count);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
