package dev.umbra.cli.commands;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.Output;
import dev.umbra.client.api.ApiToken;
import dev.umbra.proto.api.ControlPlanePaths;
import dev.umbra.proto.api.ResponseFields;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code umbra tokens create|list|revoke}: API tokens of your account. */
@Command(
    name = "tokens",
    description = "API tokens for scripts.",
    subcommands = {
      TokensCommand.Create.class,
      TokensCommand.ListCmd.class,
      TokensCommand.Revoke.class
    })
public final class TokensCommand {

  @Command(
      name = "create",
      description = "Create an API token; it is printed once and never shown again.")
  public static final class Create implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "<name>")
    String name;

    @Option(
        names = "--scope",
        paramLabel = "full|read",
        defaultValue = "full",
        description = "full or read (default: full).")
    String scope;

    @Mixin Output output;

    public Create(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      JsonObject t =
          new Api(ctx)
              .call(
                  "POST",
                  ControlPlanePaths.TOKENS,
                  new JsonObject().put("name", name).put("scope", scope));
      ApiToken created = ApiToken.fromJson(t);
      output.print(ctx.out(), t, ResponseFields.of(t, "ApiTokenCreated").string("token"));
      if (!output.json()) {
        ctx.err()
            .println(
                "token "
                    + created.id()
                    + " ("
                    + created.scope()
                    + "); store it now, it is not shown again");
      }
      return 0;
    }
  }

  @Command(name = "list", description = "List your API tokens (never the tokens themselves).")
  public static final class ListCmd implements Callable<Integer> {
    private final CliContext ctx;
    @Mixin Output output;

    public ListCmd(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      output.table(
          ctx.out(),
          new Api(ctx).all(ControlPlanePaths.TOKENS),
          List.of("id", "name", "scope", "created_at", "last_used_at", "revoked_at"));
      return 0;
    }
  }

  @Command(name = "revoke", description = "Revoke an API token.")
  public static final class Revoke implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "<token-id>")
    String id;

    @Mixin Output output;

    public Revoke(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      new Api(ctx).call("DELETE", ControlPlanePaths.token(id), null);
      output.print(ctx.out(), new JsonObject().put("revoked", id), "revoked token " + id);
      return 0;
    }
  }
}
