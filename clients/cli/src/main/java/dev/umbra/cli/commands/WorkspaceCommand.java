package dev.umbra.cli.commands;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.Output;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code umbra workspace create|list|use}. */
@Command(
    name = "workspace",
    description = "Create, list and choose workspaces.",
    subcommands = {
      WorkspaceCommand.Create.class,
      WorkspaceCommand.ListCmd.class,
      WorkspaceCommand.Use.class
    })
public final class WorkspaceCommand {

  @Command(
      name = "create",
      description = "Create a workspace (you become its owner) and switch to it.")
  public static final class Create implements java.util.concurrent.Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "<name>")
    String name;

    @Mixin Output output;

    public Create(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      Api api = new Api(ctx);
      JsonObject ws =
          api.call("POST", ControlPlanePaths.WORKSPACES, new JsonObject().put("name", name));
      ctx.credentials().save(api.saved().withWorkspace(ws.getString("id"), ws.getString("name")));
      output.print(
          ctx.out(),
          ws,
          "created workspace "
              + ws.getString("name")
              + " ("
              + ws.getString("id")
              + "); now using it");
      return 0;
    }
  }

  @Command(name = "list", description = "List your workspaces (* marks the current one).")
  public static final class ListCmd implements java.util.concurrent.Callable<Integer> {
    private final CliContext ctx;
    @Mixin Output output;

    public ListCmd(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      Api api = new Api(ctx);
      JsonArray items = api.all(ControlPlanePaths.WORKSPACES);
      for (Object o : items) {
        JsonObject w = (JsonObject) o;
        w.put("current", w.getString("id").equals(api.saved().workspaceId()) ? "*" : "");
      }
      output.table(ctx.out(), items, List.of("current", "name", "id", "created_at"));
      return 0;
    }
  }

  @Command(name = "use", description = "Make a workspace the current one.")
  public static final class Use implements java.util.concurrent.Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "<name|id>")
    String workspace;

    @Mixin Output output;

    public Use(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      Api api = new Api(ctx);
      JsonObject w = api.find(workspace);
      ctx.credentials().save(api.saved().withWorkspace(w.getString("id"), w.getString("name")));
      output.print(
          ctx.out(),
          w,
          "now using workspace " + w.getString("name") + " (" + w.getString("id") + ")");
      return 0;
    }
  }
}
