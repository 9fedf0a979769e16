package dev.umbra.cli.relay;

import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.WorkspaceOption;
import dev.umbra.client.channel.PlainRelayClient;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code umbra run <machine> -- <command> [args...]}: exits with the remote command's status. */
@Command(
    name = "run",
    description = "Run a command on a machine, end-to-end encrypted through the relay.")
public final class RunCommand implements Callable<Integer> {
  private final CliContext ctx;

  @Parameters(index = "0", paramLabel = "<machine>", description = "Machine id or name.")
  String machine;

  @Parameters(
      index = "1..*",
      arity = "1..*",
      paramLabel = "<command>",
      description = "The command and its arguments (after --).")
  List<String> command;

  @Option(
      names = "--psk",
      description = "The workspace PSK when the workspace requires one; else UMBRA_PSK.")
  String psk;

  @Option(names = "--no-stdin", description = "Do not send this terminal's standard input.")
  boolean noStdin;

  @Mixin WorkspaceOption ws;

  public RunCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() throws Exception {
    try (RelayAccess<PlainRelayClient> relay =
        RelayAccess.connectOneShot(ctx, ws.value(), machine, psk)) {
      return RemoteRun.run(
              relay.client(),
              relay.machineId(),
              relay.daemonKey(),
              command,
              noStdin ? null : System.in,
              ctx.out(),
              ctx.err())
          .get();
    } catch (ExecutionException e) {
      throw new CliException(e.getCause().getMessage());
    }
  }
}
