package dev.umbra.cli.relay;

import dev.umbra.cli.CliContext;
import dev.umbra.cli.UsageException;
import dev.umbra.cli.WorkspaceOption;
import io.vertx.core.net.NetServer;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code umbra forward <machine> <localport>:<host>:<port>}: until Ctrl-C. */
@Command(
    name = "forward",
    description =
        "Forward a local TCP port to host:port as seen from a machine, end-to-end encrypted.")
public final class ForwardCommand implements Callable<Integer> {
  private final CliContext ctx;

  @Parameters(index = "0", paramLabel = "<machine>", description = "Machine id or name.")
  String machine;

  @Parameters(
      index = "1",
      paramLabel = "<localport>:<host>:<port>",
      description =
          "The local port to listen on (0: any free one, printed) and host:port as the machine"
              + " sees it, e.g. 15432:127.0.0.1:5432.")
  String spec;

  @Option(
      names = "--bind",
      paramLabel = "<address>",
      defaultValue = "127.0.0.1",
      description = "Local address to listen on (default: ${DEFAULT-VALUE}).")
  String bind;

  @Option(
      names = "--psk",
      description = "The workspace PSK when the workspace requires one; else UMBRA_PSK.")
  String psk;

  @Mixin WorkspaceOption ws;

  public ForwardCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  /** A parsed {@code localport:host:port} ({@code host} may be a bracketed IPv6 address). */
  public record Spec(int localPort, String host, int port) {
    public static Spec parse(String s) {
      int first = s.indexOf(':');
      int last = s.lastIndexOf(':');
      if (first <= 0 || last <= first) {
        throw new UsageException("expected <localport>:<host>:<port>, got '" + s + "'");
      }
      String host = s.substring(first + 1, last);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      if (host.isEmpty()) {
        throw new UsageException("no host in '" + s + "'");
      }
      return new Spec(port(s.substring(0, first), true), host, port(s.substring(last + 1), false));
    }

    private static int port(String p, boolean zeroOk) {
      try {
        int v = Integer.parseInt(p);
        if (v < (zeroOk ? 0 : 1) || v > 65535) {
          throw new NumberFormatException();
        }
        return v;
      } catch (NumberFormatException e) {
        throw new UsageException("not a port: '" + p + "'");
      }
    }
  }

  @Override
  public Integer call() throws Exception {
    Spec s = Spec.parse(spec);
    try (RelayAccess<RelayClient> relay = RelayAccess.connect(ctx, ws.value(), machine, psk)) {
      NetServer server =
          PortForward.listen(
                  relay.vertx(),
                  relay.client(),
                  relay.machineId(),
                  relay.daemonKey(),
                  bind,
                  s.localPort(),
                  s.host(),
                  s.port(),
                  e -> ctx.err().println("umbra forward: a connection failed: " + e.getMessage()))
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      ctx.out()
          .println(
              "forwarding "
                  + bind
                  + ":"
                  + server.actualPort()
                  + " -> "
                  + machine
                  + " "
                  + s.host()
                  + ":"
                  + s.port()
                  + " (Ctrl-C to stop)");
      ctx.out().flush();
      new CountDownLatch(1).await();
      return 0;
    }
  }
}
