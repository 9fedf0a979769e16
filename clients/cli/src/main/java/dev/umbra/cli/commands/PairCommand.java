package dev.umbra.cli.commands;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.Output;
import dev.umbra.cli.WorkspaceOption;
import dev.umbra.daemon.http.JsonHttp;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code umbra pair create|list|cancel|set-psk}: pairing codes, through the pairing service. */
@Command(name = "pair", description = "Pairing codes that bind a machine to the workspace.", subcommands = {
    PairCommand.Create.class, PairCommand.ListCmd.class, PairCommand.Cancel.class, PairCommand.SetPsk.class})
public final class PairCommand {

  /** A call to the pairing service with a session token for the workspace. */
  static JsonObject pairing(Api api, UUID workspace, String method, String path, JsonObject body) {
    String token = api.session(workspace, "pairing");
    return api.context().http().send(method, JsonHttp.resolve(api.serviceUrl("pairing"), path), token, body, Map.of());
  }

  @Command(name = "create", description = "Create a pairing code (valid 15 minutes, single use).")
  public static final class Create implements Callable<Integer> {
    private final CliContext ctx;
    @Option(names = "--require-psk", description = "The machine must also present the workspace PSK.") boolean requirePsk;
    @Mixin WorkspaceOption ws;
    @Mixin Output output;

    public Create(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      Api api = new Api(ctx);
      UUID w = api.workspace(ws.value());
      JsonObject code = pairing(api, w, "POST", "/v1/workspaces/" + w + "/codes", new JsonObject().put("require_psk", requirePsk));
      code.put("workspace_id", w.toString()).put("control_plane_url", api.saved().controlPlaneUrl());
      output.print(ctx.out(), code, code.getString("code"));
      if (!output.json()) {
        ctx.err().println("valid until " + code.getString("expires_at") + "; on the machine run: umbra daemon pair "
            + code.getString("code") + " --url " + api.saved().controlPlaneUrl());
      }
      return 0;
    }
  }

  @Command(name = "list", description = "List pending pairing codes (the codes themselves are never shown again).")
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
      JsonArray items = pairing(api, w, "GET", "/v1/workspaces/" + w + "/codes", null).getJsonArray("items");
      output.table(ctx.out(), items, List.of("id", "require_psk", "created_at", "expires_at"));
      return 0;
    }
  }

  @Command(name = "cancel", description = "Cancel a pending pairing code.")
  public static final class Cancel implements Callable<Integer> {
    private final CliContext ctx;
    @Parameters(index = "0", paramLabel = "<code-id>") String id;
    @Mixin WorkspaceOption ws;
    @Mixin Output output;

    public Cancel(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      Api api = new Api(ctx);
      UUID w = api.workspace(ws.value());
      pairing(api, w, "DELETE", "/v1/workspaces/" + w + "/codes/" + id, null);
      output.print(ctx.out(), new JsonObject().put("cancelled", id), "cancelled pairing code " + id);
      return 0;
    }
  }

  @Command(name = "set-psk", description = "Set the workspace PSK that codes created with --require-psk ask for.")
  public static final class SetPsk implements Callable<Integer> {
    private final CliContext ctx;
    @Option(names = "--psk", description = "The PSK (16 to 256 characters); else UMBRA_PSK.") String psk;
    @Mixin WorkspaceOption ws;
    @Mixin Output output;

    public SetPsk(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      String value = psk != null ? psk : ctx.env().get("UMBRA_PSK");
      if (value == null) {
        throw new CliException("give the PSK with --psk or UMBRA_PSK");
      }
      Api api = new Api(ctx);
      UUID w = api.workspace(ws.value());
      pairing(api, w, "PUT", "/v1/workspaces/" + w + "/psk", new JsonObject().put("psk", value));
      output.print(ctx.out(), new JsonObject().put("psk_set", true), "workspace PSK set");
      return 0;
    }
  }
}
