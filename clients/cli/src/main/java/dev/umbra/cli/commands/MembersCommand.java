package dev.umbra.cli.commands;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.Output;
import dev.umbra.cli.WorkspaceOption;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code umbra members invite|list|remove}. */
@Command(name = "members", description = "Members of the workspace.", subcommands = {
    MembersCommand.Invite.class, MembersCommand.ListCmd.class, MembersCommand.Remove.class})
public final class MembersCommand {

  @Command(name = "invite", description = "Create an invitation; its token is printed once (give it to the invitee).")
  public static final class Invite implements Callable<Integer> {
    private final CliContext ctx;
    @Option(names = "--role", defaultValue = "member", description = "admin, member or viewer (default: member).") String role;
    @Option(names = "--note", description = "A note for yourself, e.g. who it is for.") String note;
    @Mixin WorkspaceOption ws;
    @Mixin Output output;

    public Invite(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      Api api = new Api(ctx);
      UUID w = api.workspace(ws.value());
      JsonObject body = new JsonObject().put("role", role);
      if (note != null) {
        body.put("note", note);
      }
      JsonObject inv = api.call("POST", "/v1/workspaces/" + w + "/invitations", body);
      output.print(ctx.out(), inv, inv.getString("token"));
      if (!output.json()) {
        ctx.err().println("invitation " + inv.getString("id") + " (" + role + "), valid until " + inv.getString("expires_at")
            + "; the invitee runs: umbra login " + api.saved().controlPlaneUrl() + " --invite-token <token>");
      }
      return 0;
    }
  }

  @Command(name = "list", description = "List members.")
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
      output.table(ctx.out(), api.all("/v1/workspaces/" + w + "/members"), List.of("id", "name", "role", "created_at"));
      return 0;
    }
  }

  @Command(name = "remove", description = "Remove a member.")
  public static final class Remove implements Callable<Integer> {
    private final CliContext ctx;
    @Parameters(index = "0", paramLabel = "<member-id>") String id;
    @Mixin WorkspaceOption ws;
    @Mixin Output output;

    public Remove(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      Api api = new Api(ctx);
      UUID w = api.workspace(ws.value());
      api.call("DELETE", "/v1/workspaces/" + w + "/members/" + id, null);
      output.print(ctx.out(), new JsonObject().put("removed", id), "removed member " + id);
      return 0;
    }
  }
}
