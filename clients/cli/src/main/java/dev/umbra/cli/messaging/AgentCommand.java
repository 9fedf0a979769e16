package dev.umbra.cli.messaging;

import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.Output;
import dev.umbra.cli.UsageException;
import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.messaging.AgentIdentity;
import dev.umbra.client.messaging.AgentProtocol;
import dev.umbra.client.messaging.AgentSocket;
import dev.umbra.client.messaging.LiveReceiver;
import dev.umbra.client.messaging.MessagingClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code umbra agent enroll|run|send|recv|ask}: this machine's agent (docs/messaging.md,
 * "Clients"). Keys stay under UMBRA_HOME; agent processes get plaintext only over the local socket.
 */
@Command(
    name = "agent",
    description = "This machine's agent: enrol it, serve its local socket, send and receive.",
    subcommands = {
      AgentCommand.Enroll.class,
      AgentCommand.Run.class,
      AgentCommand.Send.class,
      AgentCommand.Recv.class,
      AgentAskCommand.class
    })
public final class AgentCommand {

  /** Options every agent command shares. */
  abstract static class Base implements Callable<Integer> {
    final CliContext ctx;

    @Option(
        names = {"-w", "--workspace"},
        paramLabel = "<workspace-id>",
        description = "The binding's workspace, when the machine is paired with several.")
    String workspace;

    @Mixin Output output;

    Base(CliContext ctx) {
      this.ctx = ctx;
    }
  }

  @Command(
      name = "enroll",
      description = "Enrol an agent on this paired machine; prints its verification code.")
  public static final class Enroll extends Base {
    @Parameters(index = "0", paramLabel = "<name>")
    String name;

    public Enroll(CliContext ctx) {
      super(ctx);
    }

    @Override
    public Integer call() {
      Binding b = AgentRuntime.binding(ctx, workspace);
      AgentIdentity a;
      try {
        a =
            AgentIdentity.enrol(
                ctx.home(), new BindingStore(ctx.home()), b, name, ctx.http(), ctx.clock());
      } catch (IllegalStateException e) {
        throw new CliException(e.getMessage());
      }
      String code = a.verificationCode();
      output.print(
          ctx.out(),
          new JsonObject()
              .put("agent_id", a.id().toString())
              .put("workspace_id", a.workspaceId().toString())
              .put("name", a.name())
              .put("verification_code", code),
          "enrolled agent "
              + a.name()
              + " ("
              + a.id()
              + "), pending approval.\nVerification code: "
              + code
              + "\nAn admin approves it with: umbra agents approve "
              + a.id()
              + " --code '"
              + code
              + "' (after checking the code on their side matches)");
      return 0;
    }
  }

  @Command(name = "send", description = "Send a message to a member (account id) from this agent.")
  public static final class Send extends Base {
    @Parameters(index = "0", paramLabel = "<member>", description = "The member's account id.")
    String member;

    @Parameters(
        index = "1",
        paramLabel = "<text|->",
        description = "The message, or - to read it from standard input.")
    String text;

    public Send(CliContext ctx) {
      super(ctx);
    }

    @Override
    public Integer call() {
      UUID account;
      try {
        account = UUID.fromString(member);
      } catch (IllegalArgumentException e) {
        throw new UsageException(
            "<member> must be the member's account id (a UUID), got '"
                + member
                + "': the sender `umbra agent recv` prints before each message, or the ID column"
                + " of `umbra members list` on a member's CLI");
      }
      AgentRuntime r = AgentRuntime.open(ctx, workspace);
      UUID id;
      try {
        id = r.client.send(r.conversation(account), MsgCommand.text(text));
      } catch (IllegalArgumentException | IllegalStateException e) {
        throw new CliException(e.getMessage());
      }
      output.print(ctx.out(), new JsonObject().put("id", id.toString()), "sent " + id);
      return 0;
    }
  }

  @Command(name = "recv", description = "Fetch, decrypt and print new messages (each once).")
  public static final class Recv extends Base {
    public Recv(CliContext ctx) {
      super(ctx);
    }

    @Override
    public Integer call() {
      AgentRuntime r = AgentRuntime.open(ctx, workspace);
      MessagingClient.Fetched f = r.client.fetch();
      MsgCommand.warn(ctx.err(), f.refused());
      List<JsonObject> shown = r.withAccounts(r.client.takeUnshown());
      if (output.json()) {
        ctx.out().println(new JsonArray(new ArrayList<>(shown)).encodePrettily());
      } else if (shown.isEmpty()) {
        ctx.out().println("(no new messages)");
      } else {
        MsgCommand.print(
            ctx.out(), shown, e -> e.getString("account_id", e.getString("sender_id")));
      }
      return 0;
    }
  }

  @Command(
      name = "run",
      description =
          "Serve the agent's local socket (JSON lines: recv, send, ack) and receive live.")
  public static final class Run extends Base {
    @Option(
        names = "--socket",
        paramLabel = "<path>",
        description = "Socket path (default: agent.sock in the agent's directory).")
    Path socket;

    @Option(
        names = "--for",
        paramLabel = "<seconds>",
        description = "Stop after <seconds> (default: run until killed).")
    long seconds;

    public Run(CliContext ctx) {
      super(ctx);
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
      AgentRuntime r = AgentRuntime.open(ctx, workspace);
      Path path = socket != null ? socket : r.agent.dir().resolve("agent.sock");
      long until = seconds > 0 ? ctx.clock().millis() + seconds * 1000 : Long.MAX_VALUE;
      try (AgentSocket s = AgentSocket.start(path, req -> handle(r, req))) {
        ctx.err().println("umbra: agent " + r.agent.name() + " listening on " + s.path());
        ctx.err().flush();
        LiveReceiver live =
            new LiveReceiver(
                    LiveReceiver.liveUrl(r.agent.controlPlaneUrl(), r.agent.workspaceId()),
                    r::token,
                    ctx.clock(),
                    Duration.ofSeconds(15),
                    listener(r),
                    ctx.http().tls())
                .fallbackAcks(ids -> r.client.ack(ids))
                // the socket is closed when its token expires: reconnect with a fresh one
                .onTokenExpired(r::forgetToken);
        // copies stored here are acknowledged in coalesced ack frames on the live socket
        r.client.acknowledgeThrough(live::ack);
        // a refused session (revoked while running) stops it: polling could never succeed
        live.run(() -> r.sessionRefused() || ctx.clock().millis() >= until);
      }
      if (r.sessionRefused()) {
        ctx.err().println("umbra: agent " + r.agent.name() + " stopped: its session was refused");
        return 1;
      }
      return 0;
    }

    private LiveReceiver.Listener listener(AgentRuntime r) {
      return new LiveReceiver.Listener() {
        @Override
        public void fetch() {
          try {
            MsgCommand.warn(ctx.err(), r.client.fetch().refused());
          } catch (RuntimeException e) {
            status("fetch failed: " + e.getMessage());
          }
        }

        @Override
        public void message(JsonObject m) {
          MessagingClient.Outcome o = r.client.receive(m);
          if (o.reason() != null) {
            MsgCommand.warn(ctx.err(), List.of(o.reason()));
          }
        }

        @Override
        public void messages(List<JsonObject> messages) {
          for (MessagingClient.Outcome o : r.client.receiveAll(messages)) {
            if (o.reason() != null) {
              MsgCommand.warn(ctx.err(), List.of(o.reason()));
            }
          }
        }

        @Override
        public void status(String status) {
          ctx.err().println("umbra: " + status);
          ctx.err().flush();
        }
      };
    }

    static byte[] handle(AgentRuntime r, AgentProtocol.Request req) {
      return switch (req) {
        case AgentProtocol.Recv recv -> AgentProtocol.messages(r.withAccounts(r.client.unshown()));
        case AgentProtocol.Send send ->
            AgentProtocol.ok(
                new JsonObject()
                    .put("id", r.client.send(r.conversation(send.to()), send.text()).toString()));
        case AgentProtocol.SendMany many -> {
          JsonArray ids = new JsonArray();
          r.client
              .sendAll(r.conversation(many.to()), many.texts())
              .forEach(i -> ids.add(i.toString()));
          yield AgentProtocol.ok(new JsonObject().put("ids", ids));
        }
        case AgentProtocol.Ack ack -> {
          r.client.markShown(ack.ids()); // one store write for the whole batch
          yield AgentProtocol.ok(new JsonObject());
        }
      };
    }
  }
}
