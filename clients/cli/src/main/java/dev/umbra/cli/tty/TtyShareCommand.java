package dev.umbra.cli.tty;

import dev.umbra.cli.CliContext;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code umbra tty share <session> --with <member|device>}: adds recipients to the live session
 * through the running {@code umbra tty} that opened it (docs/webtty.md "Adding a recipient to a
 * live session"); the daemon starts a new output-key epoch that includes them.
 */
@Command(
    name = "share",
    description =
        "Add a member's trusted devices, or a device, to a live session you opened or control (through your running `umbra tty` in it).")
public final class TtyShareCommand implements Callable<Integer> {
  private final CliContext ctx;

  @Parameters(
      index = "0",
      paramLabel = "<session>",
      description = "The session (printed when it started).")
  String session;

  @Option(
      names = "--with",
      required = true,
      paramLabel = "<member|device>",
      description =
          "A member (id or name: all their trusted devices) or a device (id or name); without Workspace Protection an X25519 key in hex. Repeatable.")
  List<String> with = new ArrayList<>();

  public TtyShareCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() {
    TtyKeys keys = TtyKeys.loadOrCreate(ctx.home());
    StringBuilder line = new StringBuilder("share");
    for (String v : with) {
      line.append(' ').append(URLEncoder.encode(v, StandardCharsets.UTF_8));
    }
    String reply = ControlSocket.send(keys.dir(), session, line.toString());
    ctx.out().println(reply);
    return reply.startsWith("error") ? 1 : 0;
  }
}
