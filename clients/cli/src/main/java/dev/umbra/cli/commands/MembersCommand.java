package dev.umbra.cli.commands;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.InWorkspace;
import dev.umbra.cli.WorkspaceList;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code umbra members invite|list|remove}. */
@Command(
    name = "members",
    description = "Members of the workspace.",
    subcommands = {
      MembersCommand.Invite.class,
      MembersCommand.ListCmd.class,
      MembersCommand.Remove.class
    })
public final class MembersCommand {

  @Command(
      name = "invite",
      description = "Create an invitation; its token is printed once (give it to the invitee).")
  public static final class Invite extends InWorkspace {
    @Option(
        names = "--role",
        paramLabel = "admin|member|viewer",
        defaultValue = "member",
        description = "admin, member or viewer (default: member).")
    String role;

    @Option(names = "--note", description = "A note for yourself, e.g. who it is for.")
    String note;

    public Invite(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      JsonObject body = new JsonObject().put("role", role);
      if (note != null) {
        body.put("note", note);
      }
      JsonObject inv = api.call("POST", ControlPlanePaths.invitations(w), body);
      output.print(ctx.out(), inv, inv.getString("token"));
      if (!output.json()) {
        ctx.err()
            .println(
                "invitation "
                    + inv.getString("id")
                    + " ("
                    + role
                    + "), valid until "
                    + inv.getString("expires_at")
                    + "; the invitee runs: umbra login "
                    + api.saved().controlPlaneUrl()
                    + " --invite-token <token>");
      }
    }
  }

  @Command(name = "list", description = "List members.")
  public static final class ListCmd extends WorkspaceList {
    public ListCmd(CliContext ctx) {
      super(
          ctx,
          (api, w) -> api.all(ControlPlanePaths.members(w)),
          "id",
          "name",
          "role",
          "created_at");
    }
  }

  @Command(name = "remove", description = "Remove a member.")
  public static final class Remove extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<member-id>")
    String id;

    public Remove(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      api.call("DELETE", ControlPlanePaths.member(w, id), null);
      output.print(ctx.out(), new JsonObject().put("removed", id), "removed member " + id);
    }
  }
}
