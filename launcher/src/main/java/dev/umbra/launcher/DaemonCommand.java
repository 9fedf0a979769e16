package dev.umbra.launcher;

import dev.umbra.cli.CliContext;
import dev.umbra.cli.Output;
import dev.umbra.cli.UsageException;
import dev.umbra.cli.config.Credentials;
import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.daemon.pairing.DaemonPairing;
import dev.umbra.daemon.run.DaemonRunner;
import dev.umbra.launcher.service.DaemonServiceCommands;
import java.net.InetAddress;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code umbra daemon pair|run|install|uninstall|status}: the machine side. Composed into the CLI's
 * command tree here (as {@link DevCommand} is), so that the CLI itself never depends on the daemon:
 * the CLI and the daemon both build on the client library (clients/core), and bin/umbra runs this
 * command with the platform's class path (docs/cli.md, "Start-up").
 */
@Command(
    name = "daemon",
    description = "Pair this machine, run the daemon, install it as a service.",
    subcommands = {
      DaemonCommand.Pair.class,
      DaemonCommand.Run.class,
      DaemonServiceCommands.Install.class,
      DaemonServiceCommands.Uninstall.class,
      DaemonServiceCommands.Status.class
    })
public final class DaemonCommand {

  @Command(
      name = "pair",
      description =
          "Pair this machine to a workspace with a pairing code (new keys per workspace).")
  public static final class Pair implements Callable<Integer> {
    private final CliContext ctx;

    @Parameters(index = "0", paramLabel = "<code>")
    String code;

    @Option(
        names = "--url",
        description = "Control-plane URL (default: the one `umbra login` used).")
    String url;

    @Option(
        names = "--name",
        description = "Name of this machine in the workspace (default: host name).")
    String name;

    @Option(
        names = "--psk",
        description = "The workspace PSK, when the code requires it; else UMBRA_PSK.")
    String psk;

    @Mixin Output output;

    public Pair(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      String cp =
          url != null
              ? url
              : ctx.credentials()
                  .load()
                  .map(Credentials.Saved::controlPlaneUrl)
                  .orElseThrow(
                      () ->
                          new UsageException(
                              "give the control-plane URL with --url (or log in first)"));
      String machineName = name != null ? name : hostName();
      String secret = psk != null ? psk : ctx.env().get("UMBRA_PSK");
      DaemonPairing pairing =
          new DaemonPairing(ctx.http(), new BindingStore(ctx.home()), ctx.clock());
      Binding b = pairing.pair(new DaemonPairing.Request(cp, code, machineName, secret));
      output.print(
          ctx.out(),
          b.toJson(),
          "paired as machine "
              + b.machineId()
              + " ("
              + b.name()
              + ") in workspace "
              + b.workspaceId());
      return 0;
    }

    private static String hostName() {
      try {
        String h = InetAddress.getLocalHost().getHostName();
        return h.length() > 64 ? h.substring(0, 64) : h;
      } catch (java.io.IOException e) {
        return "machine";
      }
    }
  }

  @Command(name = "run", description = "Run the daemon for every binding of this machine.")
  public static final class Run implements Callable<Integer> {
    private final CliContext ctx;

    @Option(names = "--once", description = "Check in once and exit.")
    boolean once;

    public Run(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      return new DaemonRunner(ctx.http(), new BindingStore(ctx.home()), ctx.clock(), ctx.out())
          .run(once);
    }
  }
}
