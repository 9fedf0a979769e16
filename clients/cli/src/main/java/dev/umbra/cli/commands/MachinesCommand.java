package dev.umbra.cli.commands;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.InWorkspace;
import dev.umbra.cli.WorkspaceList;
import dev.umbra.client.api.Machine;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code umbra machines list|rename|revoke|policy}. */
@Command(
    name = "machines",
    description = "Machines paired to the workspace.",
    subcommands = {
      MachinesCommand.ListCmd.class,
      MachinesCommand.Rename.class,
      MachinesCommand.Revoke.class,
      dev.umbra.cli.tty.MachinePolicyCommand.class
    })
public final class MachinesCommand {

  /** A machine by id or by the name of an active machine (unique). */
  public static String resolve(Api api, UUID w, String idOrName) {
    String match = null;
    for (Machine m : api.machines(w)) {
      if (m.id().toString().equals(idOrName)) {
        return idOrName;
      }
      if (m.name().equals(idOrName) && m.active()) {
        if (match != null) {
          throw new CliException("more than one machine is named '" + idOrName + "'; use its id");
        }
        match = m.id().toString();
      }
    }
    if (match == null) {
      throw new CliException(
          "no machine '" + idOrName + "' in this workspace (see `umbra machines list`)");
    }
    return match;
  }

  @Command(name = "list", description = "List machines.")
  public static final class ListCmd extends WorkspaceList {
    public ListCmd(CliContext ctx) {
      super(
          ctx,
          (api, w) -> api.all(ControlPlanePaths.machines(w)),
          "id",
          "name",
          "os",
          "status",
          "last_seen_at",
          "created_at");
    }
  }

  @Command(name = "rename", description = "Rename a machine.")
  public static final class Rename extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<machine>")
    String machine;

    @Parameters(index = "1", paramLabel = "<new-name>")
    String name;

    public Rename(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      JsonObject m =
          api.call(
              "PATCH",
              ControlPlanePaths.machine(w, resolve(api, w, machine)),
              new JsonObject().put("name", name));
      Machine renamed = Machine.fromJson(m);
      output.print(ctx.out(), m, "renamed machine " + renamed.id() + " to " + renamed.name());
    }
  }

  @Command(
      name = "revoke",
      description = "Revoke a machine: it can no longer get sessions, and live connections end.")
  public static final class Revoke extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<machine>")
    String machine;

    public Revoke(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      String id = resolve(api, w, machine);
      api.call("DELETE", ControlPlanePaths.machine(w, id), null);
      output.print(ctx.out(), new JsonObject().put("revoked", id), "revoked machine " + id);
    }
  }
}
