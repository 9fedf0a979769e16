package dev.umbra.cli.work;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.InWorkspace;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code umbra inbox list|show|decide}: decisions agents wait for (docs/agents.md, "Inbox"). */
@Command(
    name = "inbox",
    description = "Decisions agents wait for: list, show and decide them.",
    subcommands = {InboxCommand.ListCmd.class, InboxCommand.Show.class, InboxCommand.Decide.class})
public final class InboxCommand {

  @Command(name = "list", description = "List the inbox items you may see.")
  public static final class ListCmd extends InWorkspace {
    @Option(
        names = "--status",
        paramLabel = "<open|decided|expired>",
        description = "Only items of this status.")
    String status;

    public ListCmd(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      output.table(
          ctx.out(),
          api.all(ControlPlanePaths.inbox(w) + (status == null ? "" : "?status=" + status)),
          List.of("id", "kind", "status", "deadline", "answer", "question"));
    }
  }

  @Command(name = "show", description = "Show an inbox item.")
  public static final class Show extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<item-id>")
    String item;

    public Show(CliContext ctx) {
      super(ctx);
    }

    /** Who waits for the decision: an agent, or an agent session on a machine. */
    static String raisedBy(JsonObject i) {
      if (i.getString("machine_id") != null) {
        return "raised by agent session "
            + i.getString("session_id")
            + " on machine "
            + i.getString("machine_id")
            + "\n";
      }
      return i.getString("agent_id") == null
          ? ""
          : "raised by agent " + i.getString("agent_id") + "\n";
    }

    @Override
    protected void run(Api api, UUID w) {
      JsonObject i = api.get(ControlPlanePaths.inboxItem(w, item));
      output.print(
          ctx.out(),
          i,
          i.getString("kind")
              + " ("
              + i.getString("status")
              + ", deadline "
              + i.getString("deadline")
              + ", default "
              + i.getString("default")
              + ")\n"
              + raisedBy(i)
              + i.getString("question")
              + (i.getJsonArray("options").isEmpty()
                  ? ""
                  : "\noptions: " + String.join(", ", i.getJsonArray("options").getList()))
              + (i.getString("answer") == null ? "" : "\nanswer: " + i.getString("answer")));
    }
  }

  @Command(
      name = "decide",
      description = "Decide an open item: approve|deny, one of its options, or an answer.")
  public static final class Decide extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<item-id>")
    String item;

    @Parameters(index = "1", paramLabel = "<answer>")
    String answer;

    public Decide(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      JsonObject i =
          api.call(
              "POST",
              ControlPlanePaths.inboxDecision(w, item),
              new JsonObject().put("answer", answer));
      output.print(ctx.out(), i, "decided " + item + ": " + i.getString("answer"));
    }
  }
}
