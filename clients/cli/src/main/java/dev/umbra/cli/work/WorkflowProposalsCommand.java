package dev.umbra.cli.work;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.InWorkspace;
import dev.umbra.client.http.ApiError;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.workflow.WorkflowDefinition;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Revisions proposed from repository files (docs/agents.md, "Mirroring to repository files"): shown
 * by {@code umbra workflows list|show}, signed by {@code umbra workflows sign <name>}, which prints
 * the difference to the stored version and signs the proposal as the next version with this CLI's
 * trusted device — until then a proposal runs nowhere.
 */
public final class WorkflowProposalsCommand {
  private WorkflowProposalsCommand() {}

  static List<JsonObject> proposals(Api api, UUID w, String name) {
    JsonArray items = api.get(ControlPlanePaths.workflowProposals(w)).getJsonArray("items");
    List<JsonObject> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      JsonObject p = items.getJsonObject(i);
      if (name == null || name.equals(p.getString("name"))) {
        out.add(p);
      }
    }
    return out;
  }

  /** One line per proposal (of {@code name}, or all), conflicts marked. */
  static void printAll(PrintStream out, Api api, UUID w, String name) {
    for (JsonObject p : proposals(api, w, name)) {
      out.println(
          (p.getBoolean("conflict") ? "CONFLICT " : "proposed ")
              + p.getString("name")
              + " from machine "
              + p.getString("machine_id")
              + " (edited from v"
              + p.getLong("base_version")
              + (p.getBoolean("conflict")
                  ? "; the stored version changed too: nothing was overwritten"
                  : "")
              + "; unsigned: `umbra workflows sign "
              + p.getString("name")
              + "`)");
    }
  }

  @Command(
      name = "sign",
      description =
          "Sign a revision proposed from a repository file as the next version (shows the difference first).")
  public static final class Sign extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<name>")
    String name;

    @Option(
        names = "--machine",
        paramLabel = "<machine-id>",
        description = "The proposal of this machine (when several machines proposed one).")
    String machine;

    public Sign(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      List<JsonObject> ps = proposals(api, w, name);
      if (machine != null) {
        ps = ps.stream().filter(p -> machine.equals(p.getString("machine_id"))).toList();
      }
      if (ps.isEmpty()) {
        throw new CliException("no proposed revision of workflow " + name);
      }
      if (ps.size() > 1) {
        throw new CliException(
            "several machines proposed a revision of " + name + ": choose one with --machine");
      }
      String yaml = ps.get(0).getString("yaml");
      WorkflowDefinition d;
      try {
        d = WorkflowDefinition.parse(yaml);
      } catch (CryptoException e) {
        throw new CliException("the proposal does not parse: " + e.getMessage());
      }
      if (!d.name().equals(name)) {
        throw new CliException("the proposal defines " + d.name() + ", not " + name);
      }
      String stored = "";
      try {
        JsonObject cur = api.get(ControlPlanePaths.workflow(w, name));
        stored = cur.getString("yaml") == null ? "" : cur.getString("yaml");
      } catch (ApiError e) {
        if (e.status() != 404) {
          throw e;
        }
      }
      if (!output.json()) {
        ctx.out().print(LineDiff.unified(stored, yaml));
      }
      WorkflowsCommand.Put.store(ctx, output, api, w, d, yaml);
    }
  }
}
