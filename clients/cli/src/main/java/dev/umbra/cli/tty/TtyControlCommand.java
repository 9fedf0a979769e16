package dev.umbra.cli.tty;

import dev.umbra.cli.CliContext;
import dev.umbra.cli.UsageException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code umbra tty control request|give <participant>|take|who}: acts through the running {@code
 * umbra tty}.
 */
@Command(
    name = "control",
    description = "Ask for, give or take back control of the running session.")
public final class TtyControlCommand implements Callable<Integer> {
  private final CliContext ctx;

  @Parameters(index = "0", paramLabel = "request|give|take|who")
  String action;

  @Parameters(index = "1", arity = "0..1", paramLabel = "<participant>")
  String participant;

  @Option(
      names = "--session",
      paramLabel = "<session>",
      description = "Which running session (default: the only one).")
  String session;

  public TtyControlCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() {
    if (!List.of("request", "give", "take", "who").contains(action)) {
      throw new UsageException("control takes request, give <participant>, take or who");
    }
    if (action.equals("give") && participant == null) {
      throw new UsageException("give needs the participant id (shown when they ask)");
    }
    TtyKeys keys = TtyKeys.loadOrCreate(ctx.home());
    String reply =
        ControlSocket.send(
            keys.dir(), session, action + (participant == null ? "" : " " + participant));
    ctx.out().println(reply);
    return reply.startsWith("error") ? 1 : 0;
  }
}
