package dev.umbra.cli.work;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.InWorkspace;
import dev.umbra.cli.WorkspaceList;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code umbra plans publish|list|show|comment|approve|request-changes}: plans under review
 * (docs/agents.md, "Plans").
 */
@Command(
    name = "plans",
    description = "Plans under review: publish, read, comment, approve or request changes.",
    subcommands = {
      PlansCommand.Publish.class,
      PlansCommand.ListCmd.class,
      PlansCommand.Show.class,
      PlansCommand.Comment.class,
      PlansCommand.Approve.class,
      PlansCommand.RequestChanges.class
    })
public final class PlansCommand {
  /** The most of a plan's body read from a file or stdin (the control plane's limit). */
  static final int MAX_BODY = 65_536;

  /** The text of {@code path}, or of stdin for {@code -}. */
  static String read(String path) {
    try {
      byte[] b =
          "-".equals(path)
              ? System.in.readNBytes(MAX_BODY * 4 + 1)
              : Files.readAllBytes(Path.of(path));
      return new String(b, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new CliException("cannot read " + path + ": " + e.getMessage());
    }
  }

  @Command(
      name = "publish",
      description = "Publish a plan for review (markdown body from a file or -), or a new version.")
  public static final class Publish extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<title>")
    String title;

    @Option(
        names = "--body",
        paramLabel = "<file|->",
        required = true,
        description = "The markdown body: a file, or - for stdin.")
    String body;

    @Option(names = "--step", paramLabel = "<text>", description = "A step (repeat, in order).")
    List<String> steps = new ArrayList<>();

    @Option(
        names = "--team",
        paramLabel = "<team-id>",
        description = "Share with this team of the workspace (repeat).")
    List<String> teams = new ArrayList<>();

    @Option(
        names = "--revise",
        paramLabel = "<plan-id>",
        description = "Publish a new version of this plan instead of a new plan.")
    String revise;

    public Publish(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      JsonObject draft =
          new JsonObject()
              .put("title", title)
              .put("body", read(body))
              .put("steps", new JsonArray(List.copyOf(steps)))
              .put("team_ids", new JsonArray(List.copyOf(teams)));
      JsonObject p =
          api.call(
              "POST",
              revise == null
                  ? ControlPlanePaths.plans(w)
                  : ControlPlanePaths.planVersions(w, revise),
              draft);
      JsonObject plan = p.getJsonObject("plan");
      output.print(
          ctx.out(),
          p,
          "published plan " + plan.getString("id") + " version " + plan.getInteger("version"));
    }
  }

  @Command(name = "list", description = "List the plans you may see.")
  public static final class ListCmd extends WorkspaceList {
    public ListCmd(CliContext ctx) {
      super(
          ctx,
          (api, w) -> api.all(ControlPlanePaths.plans(w)),
          "id",
          "title",
          "version",
          "status",
          "author_kind",
          "updated_at");
    }
  }

  @Command(name = "show", description = "Show a plan: a version, its steps, comments and verdicts.")
  public static final class Show extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<plan-id>")
    String plan;

    @Option(names = "--version", paramLabel = "<n>", description = "Default: the current one.")
    int version;

    public Show(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      JsonObject p =
          api.get(ControlPlanePaths.plan(w, plan) + (version > 0 ? "?version=" + version : ""));
      output.print(ctx.out(), p, text(p));
    }

    static String text(JsonObject p) {
      JsonObject plan = p.getJsonObject("plan");
      JsonObject shown = p.getJsonObject("shown");
      StringBuilder b = new StringBuilder();
      b.append(shown.getString("title"))
          .append("  (version ")
          .append(shown.getInteger("version"))
          .append(" of ")
          .append(plan.getInteger("version"))
          .append(", ")
          .append(plan.getString("status"))
          .append(")\n\n")
          .append(shown.getString("body"))
          .append('\n');
      JsonArray steps = shown.getJsonArray("steps");
      for (int i = 0; i < steps.size(); i++) {
        b.append(i == 0 ? "\nSteps:\n" : "").append("  ").append(i + 1).append(". ");
        b.append(steps.getString(i)).append('\n');
      }
      for (Object o : p.getJsonArray("comments")) {
        JsonObject c = (JsonObject) o;
        b.append("\n[comment v").append(c.getInteger("version")).append(' ');
        b.append(c.getString("author_kind")).append(' ').append(c.getString("author_id"));
        b.append("] ").append(c.getString("body")).append('\n');
      }
      for (Object o : p.getJsonArray("verdicts")) {
        JsonObject v = (JsonObject) o;
        b.append("\n[").append(v.getString("verdict")).append(" v").append(v.getInteger("version"));
        b.append(" by ").append(v.getString("account_id")).append(']');
        if (v.getString("note") != null) {
          b.append(' ').append(v.getString("note"));
        }
        b.append('\n');
      }
      return b.toString().stripTrailing();
    }
  }

  @Command(name = "comment", description = "Comment on a plan's current version.")
  public static final class Comment extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<plan-id>")
    String plan;

    @Parameters(index = "1", paramLabel = "<text>")
    String text;

    public Comment(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      JsonObject p =
          api.call(
              "POST", ControlPlanePaths.planComments(w, plan), new JsonObject().put("body", text));
      output.print(ctx.out(), p, "commented on plan " + plan);
    }
  }

  /** A verdict on a plan's current version. */
  abstract static class VerdictCmd extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<plan-id>")
    String plan;

    @Option(names = "--note", paramLabel = "<text>", description = "Why (optional).")
    String note;

    VerdictCmd(CliContext ctx) {
      super(ctx);
    }

    abstract String verdict();

    @Override
    protected void run(Api api, UUID w) {
      JsonObject body = new JsonObject().put("verdict", verdict());
      if (note != null) {
        body.put("note", note);
      }
      JsonObject p = api.call("POST", ControlPlanePaths.planVerdicts(w, plan), body);
      JsonObject s = p.getJsonObject("plan");
      output.print(
          ctx.out(),
          p,
          "plan " + plan + " version " + s.getInteger("version") + ": " + s.getString("status"));
    }
  }

  @Command(name = "approve", description = "Approve a plan's current version.")
  public static final class Approve extends VerdictCmd {
    public Approve(CliContext ctx) {
      super(ctx);
    }

    @Override
    String verdict() {
      return "approve";
    }
  }

  @Command(name = "request-changes", description = "Request changes to a plan's current version.")
  public static final class RequestChanges extends VerdictCmd {
    public RequestChanges(CliContext ctx) {
      super(ctx);
    }

    @Override
    String verdict() {
      return "request_changes";
    }
  }
}
