package dev.umbra.cli.messaging;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.InWorkspace;
import dev.umbra.cli.WorkspaceList;
import dev.umbra.client.messaging.MessagingStore;
import dev.umbra.crypto.sign.VerificationCodes;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code umbra agents list|approve|revoke} (admin; docs/messaging.md). */
@Command(
    name = "agents",
    description = "Agents enrolled in the workspace.",
    subcommands = {
      AgentsCommand.ListCmd.class,
      AgentsCommand.Approve.class,
      AgentsCommand.Revoke.class
    })
public final class AgentsCommand {

  @Command(name = "list", description = "List agents.")
  public static final class ListCmd extends WorkspaceList {
    public ListCmd(CliContext ctx) {
      super(
          ctx,
          (api, w) -> api.all(ControlPlanePaths.agents(w)),
          "id",
          "name",
          "status",
          "machine_id",
          "created_at");
    }
  }

  @Command(
      name = "approve",
      description =
          "Approve an agent after comparing its verification code (computed here from its keys).")
  public static final class Approve extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<agent>", description = "Agent id or name.")
    String agent;

    @Option(
        names = "--code",
        required = true,
        paramLabel = "<code>",
        description = "The code `umbra agent enroll` printed on the machine.")
    String code;

    public Approve(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      JsonObject a = OwnerMessaging.resolveAgent(api, w, agent);
      if (!VerificationCodes.matches(code, keys(w, a))) {
        throw new CliException(
            "the code does not match the agent's keys as this CLI computes it: do not approve (someone may have swapped the keys)");
      }
      JsonObject approved =
          api.call(
              "POST",
              ControlPlanePaths.agentApproval(w, a.getString("id")),
              new JsonObject().put("verification_code", code));
      pinHere(api, w, approved);
      output.print(
          ctx.out(),
          approved,
          "approved agent " + approved.getString("name") + " (" + approved.getString("id") + ")");
    }

    private static Object keys(UUID w, JsonObject a) {
      return dev.umbra.client.messaging.AgentIdentity.keysPayload(
          w,
          a.getString("name"),
          dev.umbra.crypto.keys.Ed25519PublicKey.fromHex(a.getString("ed25519_public_key")),
          java.util.HexFormat.of().parseHex(a.getString("x25519_public_key")));
    }

    /** When this CLI is a trusted device, the approved key is pinned for its messages. */
    private static void pinHere(Api api, UUID w, JsonObject a) {
      api.trust(w)
          .ifPresent(
              t ->
                  MessagingStore.open(
                          OwnerMessaging.storeDir(api.context().home(), w, t.device().id()))
                      .savePin(
                          UUID.fromString(a.getString("id")), a.getString("ed25519_public_key")));
    }
  }

  @Command(
      name = "revoke",
      description = "Revoke an agent: it can no longer send, receive or fetch prekeys.")
  public static final class Revoke extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<agent>", description = "Agent id or name.")
    String agent;

    public Revoke(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      JsonObject a = OwnerMessaging.resolveAgent(api, w, agent);
      JsonObject r =
          api.call(
              "POST", ControlPlanePaths.agentRevocation(w, a.getString("id")), new JsonObject());
      output.print(
          ctx.out(), r, "revoked agent " + r.getString("name") + " (" + r.getString("id") + ")");
    }
  }
}
