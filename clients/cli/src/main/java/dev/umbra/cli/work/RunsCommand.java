package dev.umbra.cli.work;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.InWorkspace;
import dev.umbra.cli.commands.MachinesCommand;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code umbra runs list|show}: what runs on machines left on the platform — ids, times, exit
 * status, byte counts; never output (docs/agents.md, "Run records").
 */
@Command(
    name = "runs",
    description = "Run records of machines: who ran what when, exit status, bytes; never output.",
    subcommands = {RunsCommand.ListCmd.class, RunsCommand.Show.class})
public final class RunsCommand {

  @Command(name = "list", description = "List the run records you may see.")
  public static final class ListCmd extends InWorkspace {
    @Option(names = "--machine", paramLabel = "<machine>", description = "Only this machine's.")
    String machine;

    public ListCmd(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      String q = machine == null ? "" : "?machine_id=" + MachinesCommand.resolve(api, w, machine);
      output.table(
          ctx.out(),
          api.all(ControlPlanePaths.runs(w) + q),
          List.of(
              "id",
              "machine_id",
              "kind",
              "outcome",
              "exit_status",
              "started_at",
              "duration_ms",
              "bytes_in",
              "bytes_out"));
    }
  }

  @Command(name = "show", description = "Show a run record.")
  public static final class Show extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<run-id>")
    String run;

    public Show(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      JsonObject r = api.get(ControlPlanePaths.run(w, run));
      StringBuilder b = new StringBuilder();
      for (String k : r.fieldNames()) {
        b.append(k).append(": ").append(r.getValue(k)).append('\n');
      }
      output.print(ctx.out(), r, b.toString().stripTrailing());
    }
  }
}
