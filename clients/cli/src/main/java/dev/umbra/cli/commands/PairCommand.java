package dev.umbra.cli.commands;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.InWorkspace;
import dev.umbra.cli.UsageException;
import dev.umbra.cli.WorkspaceList;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.proto.api.PairingPaths;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code umbra pair create|list|cancel|set-psk}: pairing codes, through the pairing service. */
@Command(
    name = "pair",
    description = "Pairing codes that bind a machine to the workspace.",
    subcommands = {
      PairCommand.Create.class,
      PairCommand.ListCmd.class,
      PairCommand.Cancel.class,
      PairCommand.SetPsk.class
    })
public final class PairCommand {

  /** A call to the pairing service with a session token for the workspace. */
  static JsonObject pairing(Api api, UUID workspace, String method, String path, JsonObject body) {
    String token = api.session(workspace, "pairing");
    return api.context()
        .http()
        .send(method, JsonHttp.resolve(api.serviceUrl("pairing"), path), token, body, Map.of());
  }

  @Command(name = "create", description = "Create a pairing code (valid 15 minutes, single use).")
  public static final class Create extends InWorkspace {
    @Option(
        names = "--require-psk",
        description = "The machine must also present the workspace PSK.")
    boolean requirePsk;

    public Create(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      JsonObject code =
          pairing(
              api,
              w,
              "POST",
              PairingPaths.codes(w),
              new JsonObject().put("require_psk", requirePsk));
      code.put("workspace_id", w.toString())
          .put("control_plane_url", api.saved().controlPlaneUrl());
      output.print(ctx.out(), code, code.getString("code"));
      if (!output.json()) {
        ctx.err()
            .println(
                "valid until "
                    + code.getString("expires_at")
                    + "; on the machine run: umbra daemon pair "
                    + code.getString("code")
                    + " --url "
                    + api.saved().controlPlaneUrl());
      }
    }
  }

  @Command(
      name = "list",
      description = "List pending pairing codes (the codes themselves are never shown again).")
  public static final class ListCmd extends WorkspaceList {
    public ListCmd(CliContext ctx) {
      super(
          ctx,
          (api, w) ->
              pairing(api, w, "GET", PairingPaths.codes(w) + "?limit=200", null)
                  .getJsonArray("items"),
          "id",
          "require_psk",
          "created_at",
          "expires_at");
    }
  }

  @Command(name = "cancel", description = "Cancel a pending pairing code.")
  public static final class Cancel extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<code-id>")
    String id;

    public Cancel(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      pairing(api, w, "DELETE", PairingPaths.code(w, id), null);
      output.print(
          ctx.out(), new JsonObject().put("cancelled", id), "cancelled pairing code " + id);
    }
  }

  @Command(
      name = "set-psk",
      description = "Set the workspace PSK that codes created with --require-psk ask for.")
  public static final class SetPsk extends InWorkspace {
    @Option(names = "--psk", description = "The PSK (16 to 256 characters); else UMBRA_PSK.")
    String psk;

    public SetPsk(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      String value = psk != null ? psk : ctx.env().get("UMBRA_PSK");
      if (value == null) {
        throw new UsageException("give the PSK with --psk or UMBRA_PSK");
      }
      pairing(api, w, "PUT", PairingPaths.psk(w), new JsonObject().put("psk", value));
      output.print(ctx.out(), new JsonObject().put("psk_set", true), "workspace PSK set");
    }
  }
}
