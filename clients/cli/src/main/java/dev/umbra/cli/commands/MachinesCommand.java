package dev.umbra.cli.commands;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.Output;
import dev.umbra.cli.WorkspaceOption;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code umbra machines list|rename|revoke}. */
@Command(name = "machines", description = "Machines paired to the workspace.", subcommands = {
    MachinesCommand.ListCmd.class, MachinesCommand.Rename.class, MachinesCommand.Revoke.class})
public final class MachinesCommand {

  /** A machine by id or unique name. */
  static String resolve(Api api, UUID w, String idOrName) {
    String match = null;
    for (Object o : api.all("/v1/workspaces/" + w + "/machines")) {
      JsonObject m = (JsonObject) o;
      if (m.getString("id").equals(idOrName)) {
        return idOrName;
      }
      if (m.getString("name").equals(idOrName) && "active".equals(m.getString("status"))) {
        if (match != null) {
          throw new CliException("more than one machine is named '" + idOrName + "'; use its id");
        }
        match = m.getString("id");
      }
    }
    if (match == null) {
      throw new CliException("no machine '" + idOrName + "' in this workspace (see `umbra machines list`)");
    }
    return match;
  }

  @Command(name = "list", description = "List machines.")
  public static final class ListCmd implements Callable<Integer> {
    private final CliContext ctx;
    @Mixin WorkspaceOption ws;
    @Mixin Output output;

    public ListCmd(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      Api api = new Api(ctx);
      UUID w = api.workspace(ws.value());
      JsonArray items = api.all("/v1/workspaces/" + w + "/machines");
      output.table(ctx.out(), items, List.of("id", "name", "os", "status", "last_seen_at", "created_at"));
      return 0;
    }
  }

  @Command(name = "rename", description = "Rename a machine.")
  public static final class Rename implements Callable<Integer> {
    private final CliContext ctx;
    @Parameters(index = "0", paramLabel = "<machine>") String machine;
    @Parameters(index = "1", paramLabel = "<new-name>") String name;
    @Mixin WorkspaceOption ws;
    @Mixin Output output;

    public Rename(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      Api api = new Api(ctx);
      UUID w = api.workspace(ws.value());
      JsonObject m = api.call("PATCH", "/v1/workspaces/" + w + "/machines/" + resolve(api, w, machine), new JsonObject().put("name", name));
      output.print(ctx.out(), m, "renamed machine " + m.getString("id") + " to " + m.getString("name"));
      return 0;
    }
  }

  @Command(name = "revoke", description = "Revoke a machine: it can no longer get sessions, and live connections end.")
  public static final class Revoke implements Callable<Integer> {
    private final CliContext ctx;
    @Parameters(index = "0", paramLabel = "<machine>") String machine;
    @Mixin WorkspaceOption ws;
    @Mixin Output output;

    public Revoke(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      Api api = new Api(ctx);
      UUID w = api.workspace(ws.value());
      String id = resolve(api, w, machine);
      api.call("DELETE", "/v1/workspaces/" + w + "/machines/" + id, null);
      output.print(ctx.out(), new JsonObject().put("revoked", id), "revoked machine " + id);
      return 0;
    }
  }
}
