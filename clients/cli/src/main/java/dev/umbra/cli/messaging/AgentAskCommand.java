package dev.umbra.cli.messaging;

import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code umbra agent ask}: this machine's agent raises an inbox item and waits for its decision
 * (docs/agents.md, "Inbox"), asking again every {@link #WAIT_S} seconds (long poll) until a member
 * decides it or its deadline gives the default; prints the answer.
 */
@Command(
    name = "ask",
    description =
        "Raise an inbox item as this machine's agent and wait for the decision; prints the answer.")
public final class AgentAskCommand extends AgentCommand.Base {
  static final int WAIT_S = 55;

  @Parameters(index = "0", paramLabel = "<question>")
  String question;

  @Option(
      names = "--kind",
      paramLabel = "<approve|choose|answer>",
      description =
          "approve (answers approve|deny, the default), choose (one of --option), answer.")
  String kind = "approve";

  @Option(names = "--option", paramLabel = "<text>", description = "A choice (repeat; choose).")
  List<String> options = new ArrayList<>();

  @Option(
      names = "--default",
      paramLabel = "<answer>",
      required = true,
      description = "What the deadline decides when nobody did.")
  String defaultAnswer;

  @Option(
      names = "--deadline",
      paramLabel = "<seconds>",
      description = "Seconds until the default applies (default 300).")
  long deadline = 300;

  @Option(names = "--team", paramLabel = "<team-id>", description = "Share with a team (repeat).")
  List<String> teams = new ArrayList<>();

  @Option(names = "--no-wait", description = "Raise the item, print it and return.")
  boolean noWait;

  public AgentAskCommand(CliContext ctx) {
    super(ctx);
  }

  @Override
  public Integer call() {
    AgentRuntime r = AgentRuntime.open(ctx, workspace);
    var w = r.agent.workspaceId();
    JsonObject item =
        r.call(
            "POST",
            ControlPlanePaths.inbox(w),
            new JsonObject()
                .put("kind", kind)
                .put("question", question)
                .put("options", new JsonArray(List.copyOf(options)))
                .put("default", defaultAnswer)
                .put("deadline_seconds", deadline)
                .put("team_ids", new JsonArray(List.copyOf(teams))));
    String id = item.getString("id");
    ctx.err().println("umbra: inbox item " + id + " raised; waiting for a decision");
    ctx.err().flush();
    while (!noWait && "open".equals(item.getString("status"))) {
      item =
          r.call("GET", ControlPlanePaths.inboxDecision(w, id) + "?wait_seconds=" + WAIT_S, null);
    }
    if (item.getString("status") == null) {
      throw new CliException("the control plane answered without a status");
    }
    output.print(
        ctx.out(), item, "open".equals(item.getString("status")) ? id : item.getString("answer"));
    return 0;
  }
}
