package dev.umbra.cli.work;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.InWorkspace;
import dev.umbra.cli.WorkspaceOption;
import dev.umbra.cli.devices.DeviceStore;
import dev.umbra.cli.devices.WorkspaceProtection;
import dev.umbra.cli.relay.RelayAccess;
import dev.umbra.cli.relay.RemoteWorkflow;
import dev.umbra.client.channel.PlainRelayClient;
import dev.umbra.client.http.ApiError;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.workflow.WorkflowDefinition;
import dev.umbra.crypto.workflow.WorkflowDocument;
import dev.umbra.crypto.workflow.WorkflowYaml;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code umbra workflows put|list|show|rm|run} (docs/agents.md, "Workflows"): signed workflow
 * definitions. {@code put} parses the file, signs its next version with this CLI's trusted device
 * key and stores it; {@code show} and {@code run} verify the signature against this CLI's verified
 * keyset first ({@link WorkflowCheck}), and {@code run} then asks each machine's daemon, over the
 * relay, to run its steps — the daemon verifies the signature against its own pinned trust again.
 */
@Command(
    name = "workflows",
    description = "Signed workflow definitions: store, list, show, delete, run on a machine.",
    subcommands = {
      WorkflowsCommand.Put.class,
      WorkflowsCommand.ListCmd.class,
      WorkflowsCommand.Show.class,
      WorkflowsCommand.Rm.class,
      WorkflowProposalsCommand.Sign.class,
      WorkflowsCommand.Run.class
    })
public final class WorkflowsCommand {

  @Command(
      name = "put",
      description =
          "Store a definition's next version, signed by this CLI's trusted device (Workspace Protection).")
  public static final class Put extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<file>", description = "The YAML definition.")
    Path file;

    public Put(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      String yaml;
      try {
        if (Files.size(file) > WorkflowYaml.MAX_CHARS * 4L) {
          throw new CliException(file + " is larger than a workflow may be");
        }
        yaml = Files.readString(file, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new CliException("cannot read " + file + ": " + e.getMessage());
      }
      WorkflowDefinition d;
      try {
        d = WorkflowDefinition.parse(yaml);
      } catch (CryptoException e) {
        throw new CliException(file + ": " + e.getMessage());
      }
      store(ctx, output, api, w, d, yaml);
    }

    /** Signs {@code yaml} as the next version of {@code d} with this CLI's device and stores it. */
    static void store(
        CliContext ctx,
        dev.umbra.cli.Output output,
        Api api,
        UUID w,
        WorkflowDefinition d,
        String yaml) {
      WorkspaceProtection wp = new WorkspaceProtection(api, w);
      if (wp.keysetIfAny().isEmpty()) {
        throw new CliException(
            "workflows need Workspace Protection: the workspace has no keyset (`umbra device trust`)");
      }
      wp.ownCredential(); // only a device with a valid credential of the current keyset may sign
      DeviceStore.Device device = wp.store().require();
      long version = current(api, w, d.name()) + 1;
      byte[] sig = WorkflowDocument.sign(w, version, device.id(), d, device.signing().privateKey());
      JsonObject r =
          api.call(
              "PUT",
              ControlPlanePaths.workflow(w, d.name()),
              new JsonObject()
                  .put("version", version)
                  .put("yaml", yaml)
                  .put("signature", HexFormat.of().formatHex(sig))
                  .put("signer_device_id", device.id().toString()));
      output.print(
          ctx.out(),
          r,
          "workflow "
              + d.name()
              + " v"
              + version
              + " stored, signed by this device ("
              + device.id()
              + ")");
    }

    /** The stored version (a deleted workflow keeps its version); 0 when there never was one. */
    static long current(Api api, UUID w, String name) {
      try {
        return api.get(ControlPlanePaths.workflow(w, name)).getLong("version", 0L);
      } catch (ApiError e) {
        if (e.status() == 404) {
          return 0;
        }
        throw e;
      }
    }
  }

  @Command(name = "list", description = "List the workspace's workflows.")
  public static final class ListCmd extends InWorkspace {
    public ListCmd(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      output.table(
          ctx.out(),
          api.get(ControlPlanePaths.workflows(w)).getJsonArray("items"),
          List.of("name", "version", "signer_device_id", "updated_at"));
      if (!output.json()) {
        WorkflowProposalsCommand.printAll(ctx.out(), api, w, null);
      }
    }
  }

  @Command(name = "show", description = "Show a workflow's definition and who signed it.")
  public static final class Show extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<name>")
    String name;

    public Show(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      JsonObject r = api.get(ControlPlanePaths.workflow(w, name));
      boolean deleted = r.getBoolean("deleted", false);
      if (!deleted) {
        WorkflowCheck.verified(api, w, name, r);
      }
      String text =
          deleted
              ? "workflow " + name + " was deleted (version " + r.getLong("version") + ")"
              : "# version "
                  + r.getLong("version")
                  + ", signed by device "
                  + r.getString("signer_device_id")
                  + " (verified here; each daemon verifies it again before running)\n"
                  + r.getString("yaml").stripTrailing();
      output.print(ctx.out(), r, text);
      if (!output.json()) {
        WorkflowProposalsCommand.printAll(ctx.out(), api, w, name);
      }
    }
  }

  @Command(name = "rm", description = "Delete a workflow (its version is kept).")
  public static final class Rm extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<name>")
    String name;

    public Rm(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      api.call("DELETE", ControlPlanePaths.workflow(w, name), null);
      output.print(
          ctx.out(), new JsonObject().put("deleted", name), "workflow " + name + " deleted");
    }
  }

  @Command(
      name = "run",
      description =
          "Run a workflow: each machine its steps name runs them in order, as one run (each daemon verifies the signature against its own pinned trust first); exits 0 when the run succeeded.")
  public static final class Run implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "<name>")
    String name;

    @Option(names = "--input", paramLabel = "<name=value>", description = "An input (repeatable).")
    List<String> inputs = new java.util.ArrayList<>();

    @Option(names = "--psk", description = "The workspace PSK when the workspace requires one.")
    String psk;

    @Mixin WorkspaceOption ws;

    public Run(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      Map<String, String> given = new LinkedHashMap<>();
      for (String i : inputs) {
        int eq = i.indexOf('=');
        if (eq < 1) {
          throw new CliException("--input must be name=value");
        }
        given.put(i.substring(0, eq), i.substring(eq + 1));
      }
      Api api = new Api(ctx);
      UUID w = api.workspace(ws.value());
      JsonObject r = api.get(ControlPlanePaths.workflow(w, name));
      if (r.getBoolean("deleted", false)) {
        throw new CliException("workflow " + name + " was deleted");
      }
      WorkflowDefinition d = WorkflowCheck.verified(api, w, name, r);
      Map<String, String> resolved;
      try {
        resolved = d.resolve(given);
      } catch (IllegalArgumentException e) {
        throw new CliException(e.getMessage());
      }
      long version = r.getLong("version");
      String runId =
          dev.umbra.crypto.ids.Ulids.next(ctx.clock().millis(), new java.security.SecureRandom());
      ctx.err().println("run " + runId + " of workflow " + name + " v" + version);
      WorkflowOrchestrator.Result result =
          WorkflowOrchestrator.run(
              d,
              version,
              runId,
              given,
              resolved,
              (machine, part) -> {
                try (RelayAccess<PlainRelayClient> relay =
                    RelayAccess.connectOneShot(ctx, ws.value(), machine, psk)) {
                  return RemoteWorkflow.run(
                          relay.client(),
                          relay.machineId(),
                          relay.daemonKey(),
                          part,
                          ctx.out(),
                          ctx.err())
                      .get();
                }
              },
              ctx.err());
      ctx.err()
          .println(
              "workflow "
                  + name
                  + " v"
                  + version
                  + ": "
                  + (result.success() ? "success" : "failure (" + result.reason() + ")"));
      return result.success() ? 0 : 1;
    }
  }
}
