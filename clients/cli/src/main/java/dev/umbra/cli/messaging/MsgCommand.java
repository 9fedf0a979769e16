package dev.umbra.cli.messaging;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.InWorkspace;
import dev.umbra.client.messaging.MessagingClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code umbra msg send|read|watch}: end-to-end encrypted messages with agents (docs/messaging.md).
 */
@Command(
    name = "msg",
    description = "End-to-end encrypted messages with agents.",
    subcommands = {MsgCommand.Send.class, MsgCommand.Read.class, MsgWatch.class})
public final class MsgCommand {

  /** Reads {@code text}, or stdin for "-". */
  static String text(String text) {
    if (!"-".equals(text)) {
      return text;
    }
    try {
      return new String(
          System.in.readNBytes(MessagingClient.MAX_TEXT_BYTES + 1), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new CliException("cannot read the message from stdin: " + e.getMessage());
    }
  }

  /** Prints refusals as warnings (never their content: there is none to show). */
  static void warn(PrintStream err, List<String> refused) {
    for (String r : refused) {
      err.println("umbra: warning: " + r + " (discarded, not shown)");
    }
  }

  /** Prints messages for people: "<time> <from>: <text>". */
  static void print(
      PrintStream out,
      List<JsonObject> messages,
      java.util.function.Function<JsonObject, String> from) {
    for (JsonObject m : messages) {
      out.println(m.getString("created_at", "") + " " + from.apply(m) + ": " + m.getString("text"));
    }
  }

  @Command(name = "send", description = "Send a message to an agent (text, or - for stdin).")
  public static final class Send extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<agent>", description = "Agent id or name.")
    String agent;

    @Parameters(index = "1", paramLabel = "<text|->")
    String text;

    @picocli.CommandLine.Option(
        names = "--lines",
        description =
            "Each non-empty line is its own message (up to "
                + MAX_LINES
                + "), sent several a request.")
    boolean lines;

    public Send(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      JsonObject a = OwnerMessaging.messageable(OwnerMessaging.resolveAgent(api, w, agent));
      OwnerMessaging m = OwnerMessaging.open(api, w);
      UUID agentId = UUID.fromString(a.getString("id"));
      UUID conversation = m.conversation(agentId);
      if (lines) {
        sendLines(m, a, agentId, conversation);
        return;
      }
      UUID id;
      try {
        id = m.client.send(conversation, text(text));
      } catch (IllegalArgumentException | IllegalStateException e) {
        throw new CliException(e.getMessage());
      }
      output.print(
          ctx.out(),
          new JsonObject()
              .put("id", id.toString())
              .put("conversation_id", conversation.toString())
              .put("agent_id", agentId.toString()),
          "sent " + id + " to " + a.getString("name"));
    }

    private void sendLines(OwnerMessaging m, JsonObject a, UUID agentId, UUID conversation) {
      List<UUID> ids;
      try {
        ids = m.client.sendAll(conversation, lines(text));
      } catch (IllegalArgumentException | IllegalStateException e) {
        throw new CliException(e.getMessage());
      }
      JsonArray out = new JsonArray();
      ids.forEach(i -> out.add(i.toString()));
      output.print(
          ctx.out(),
          new JsonObject()
              .put("ids", out)
              .put("conversation_id", conversation.toString())
              .put("agent_id", agentId.toString()),
          "sent " + ids.size() + " messages to " + a.getString("name"));
    }
  }

  /** Most messages one {@code msg send --lines} sends. */
  static final int MAX_LINES = 10_000;

  /** The non-empty lines of {@code text} (or of stdin for "-"), each a message. */
  static List<String> lines(String text) {
    String all = text;
    if ("-".equals(text)) {
      try {
        byte[] in = System.in.readNBytes(MAX_LINES * 1024 + 1);
        all = new String(in, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new CliException("cannot read the messages from stdin: " + e.getMessage());
      }
    }
    List<String> out = new java.util.ArrayList<>();
    for (String l : all.split("\n")) {
      String t = l.endsWith("\r") ? l.substring(0, l.length() - 1) : l;
      if (!t.isBlank()) {
        out.add(t);
      }
    }
    if (out.isEmpty() || out.size() > MAX_LINES) {
      throw new CliException("--lines takes 1 to " + MAX_LINES + " non-empty lines");
    }
    return out;
  }

  @Command(name = "read", description = "Fetch, decrypt and show new messages (each shown once).")
  public static final class Read extends InWorkspace {
    @Parameters(
        index = "0",
        arity = "0..1",
        paramLabel = "<agent>",
        description = "Only this agent (id or name).")
    String agent;

    public Read(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      String only =
          agent == null ? null : OwnerMessaging.resolveAgent(api, w, agent).getString("id");
      OwnerMessaging m = OwnerMessaging.open(api, w);
      MessagingClient.Fetched f = m.client.fetch();
      warn(ctx.err(), f.refused());
      List<JsonObject> shown = show(m.client, only);
      if (output.json()) {
        ctx.out().println(new JsonArray(new ArrayList<>(shown)).encodePrettily());
      } else if (shown.isEmpty()) {
        ctx.out().println("(no new messages)");
      } else {
        AgentNames names = new AgentNames(api, w);
        print(ctx.out(), shown, e -> names.name(e.getString("sender_id")));
      }
    }
  }

  /** Takes the unshown messages (of one agent, when given) and marks them shown. */
  static List<JsonObject> show(MessagingClient client, String onlyAgent) {
    List<UUID> ids = new ArrayList<>();
    for (JsonObject e : client.unshown()) {
      if (onlyAgent == null || onlyAgent.equals(e.getString("sender_id"))) {
        ids.add(UUID.fromString(e.getString("id")));
      }
    }
    return ids.isEmpty() ? List.of() : client.markShown(ids);
  }

  /** Agent names by id, looked up once (API token). */
  static final class AgentNames {
    private final java.util.Map<String, String> names = new java.util.HashMap<>();

    AgentNames(Api api, UUID w) {
      for (Object o : api.all(dev.umbra.proto.api.ControlPlanePaths.agents(w))) {
        JsonObject a = (JsonObject) o;
        names.put(a.getString("id"), a.getString("name"));
      }
    }

    String name(String id) {
      return names.getOrDefault(id, id);
    }
  }
}
