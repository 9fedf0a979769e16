package dev.umbra.cli.tty;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.UsageException;
import dev.umbra.cli.WorkspaceOption;
import dev.umbra.client.http.ClientTls;
import dev.umbra.client.tty.FailoverGrace;
import dev.umbra.client.tty.ServerTrust;
import dev.umbra.client.tty.TtyClient;
import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jline.terminal.Attributes;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code umbra tty <machine>}: a shell on the machine in this terminal, end-to-end encrypted
 * (docs/webtty.md). Raw mode and resize through JLine; the exit status is the remote shell's.
 * Escapes after Enter: {@code ~.} detach (the shell keeps running; {@code --attach <session>} comes
 * back), {@code ~r} ask for control, {@code ~t} take control back, {@code ~?} help.
 */
@Command(
    name = "tty",
    description =
        "Open an end-to-end encrypted terminal on a machine (`umbra tty local` in dev mode).",
    subcommands = {
      TtyControlCommand.class,
      TtyShareCommand.class,
      TtyKeyCommand.class,
      TtySessionsCommand.class
    })
public final class TtyCommand implements Callable<Integer> {
  private final CliContext ctx;

  /** How long the client reconnects through an engine failover ({@link FailoverGrace#CLIENT}). */
  private java.time.Duration failoverGrace = FailoverGrace.DEFAULT;

  @Mixin WorkspaceOption ws;

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "<machine>",
      description = "Machine name or id.")
  String machine;

  @Option(
      names = "--join",
      paramLabel = "<session>",
      description = "Watch a live session (ask for control with ~r).")
  String join;

  @Option(
      names = "--attach",
      paramLabel = "<session>",
      description = "Re-attach to your own detached session.")
  String attach;

  @Option(
      names = "--e2e",
      description =
          "Fail unless the session is verified end-to-end encrypted (it always is; this makes it an assertion).")
  boolean e2e;

  @Option(
      names = "--share-with",
      paramLabel = "<x25519-hex>",
      description =
          "Also grant the session's output key to this X25519 key (they can join and export). Under Workspace Protection only a trusted device's published WebTTY key; trusted devices the join policy allows are recipients without it.")
  List<String> shareWith = new ArrayList<>();

  @Option(
      names = "--command",
      paramLabel = "<line>",
      description = "Run this line, then exit with its status (no raw mode).")
  String command;

  public TtyCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() throws Exception {
    int modes = (machine != null ? 1 : 0) + (join != null ? 1 : 0) + (attach != null ? 1 : 0);
    if (modes != 1) {
      throw new UsageException("give one of <machine>, --join <session> or --attach <session>");
    }
    Api api = new Api(ctx);
    UUID w = api.workspace(ws.value());
    TtyKeys keys = TtyKeys.loadOrCreate(ctx.home());
    URI engine = URI.create(api.serviceUrl("webtty-engine"));
    Map<String, JsonObject> machines = new HashMap<>();
    for (Object o : api.all(ControlPlanePaths.machines(w))) {
      JsonObject m = (JsonObject) o;
      machines.put(m.getString("id"), m);
    }
    String serverId = machine == null ? null : resolve(machines, machine);
    List<X25519PublicKey> shared = new ArrayList<>();
    for (String hex : shareWith) {
      shared.add(X25519PublicKey.fromHex(hex));
    }
    Vertx vertx = Vertx.vertx();
    try {
      Supplier<Future<String>> tokens =
          () -> vertx.executeBlocking(() -> api.session(w, "webtty-engine"));
      ServerTrust pins = ServerTrust.pinned(keys.pins());
      ServerTrust trust =
          (wid, server, sig, kx) -> {
            JsonObject rec = machines.get(server);
            if (rec == null
                || !sig.toHex().equals(rec.getString("ed25519_public_key"))
                || !kx.toHex().equals(rec.getString("x25519_public_key"))) {
              throw new AuthenticationFailedException(
                  "the WebTTY server's keys are not those of machine "
                      + server
                      + " in the workspace; refusing to send anything");
            }
            pins.check(wid, server, sig, kx);
          };
      FailoverGrace grace = FailoverGrace.fromEnv(ctx.env(), FailoverGrace.CLIENT);
      grace.problem().ifPresent(p -> ctx.err().println("umbra: " + p));
      failoverGrace = grace.value();
      TtyClient.Options options =
          SessionRecipients.withDeviceCredential(
              new TtyClient.Options(
                  engine,
                  w,
                  tokens,
                  keys.signing(),
                  keys.agreement(),
                  trust,
                  shared,
                  Clock.systemUTC()),
              api,
              w,
              keys,
              serverId);
      Function<List<String>, SessionRecipients.ShareTargets> targets =
          with -> SessionRecipients.shareTargets(api, w, with, keys.agreement().publicKey());
      return command != null
          ? runCommand(vertx, options, serverId)
          : interactive(vertx, options, serverId, keys, targets);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
  }

  static String resolve(Map<String, JsonObject> machines, String idOrName) {
    if (machines.containsKey(idOrName)) {
      return idOrName;
    }
    String match = null;
    for (JsonObject m : machines.values()) {
      if (idOrName.equals(m.getString("name")) && "active".equals(m.getString("status"))) {
        if (match != null) {
          throw new CliException("more than one machine is named '" + idOrName + "'; use its id");
        }
        match = m.getString("id");
      }
    }
    if (match == null) {
      throw new CliException(
          "no machine '" + idOrName + "' in this workspace (see `umbra machines list`)");
    }
    return match;
  }

  private Future<TtyClient> connect(
      Vertx vertx,
      TtyClient.Options o,
      String serverId,
      int cols,
      int rows,
      String term,
      TtyClient.Listener l) {
    Future<TtyClient> connected =
        join != null
            ? TtyClient.join(vertx, o, ctx.http().tls(), join, false, l)
            : attach != null
                ? TtyClient.join(vertx, o, ctx.http().tls(), attach, true, l)
                : TtyClient.open(vertx, o, ctx.http().tls(), serverId, cols, rows, term, l);
    return connected.map(
        c -> {
          c.failoverGrace(failoverGrace);
          return c;
        });
  }

  private TtyClient await(Future<TtyClient> f) throws Exception {
    try {
      TtyClient c = f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      if (e2e && !c.endToEnd()) {
        throw new CliException(
            "--e2e: the session is not verified end-to-end encrypted; nothing was sent");
      }
      if (e2e) {
        ctx.err()
            .println(
                "umbra: end-to-end encrypted (aes-256-gcm, HPKE key grants; server "
                    + c.serverId()
                    + " verified)");
      }
      return c;
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable why = e.getCause();
      // a refused certificate or pin says which, not Vert.x's "Failed to create SSL connection"
      throw new CliException(
          ClientTls.isTls(why)
              ? "refused TLS with the WebTTY engine: " + ClientTls.explain(why)
              : why.getMessage());
    }
  }

  private int runCommand(Vertx vertx, TtyClient.Options o, String serverId) throws Exception {
    TerminalListener ending = new TerminalListener(ctx.out());
    TtyClient c =
        await(
            connect(
                vertx,
                o,
                serverId,
                80,
                24,
                ctx.env().getOrDefault("TERM", "xterm-256color"),
                ending));
    c.send((command + "\nexit\n").getBytes(StandardCharsets.UTF_8));
    Integer status = ending.done.get();
    ctx.out().flush();
    if (status == null) {
      throw new CliException("the session ended without an exit status: " + ending.reason());
    }
    return status;
  }

  private int interactive(
      Vertx vertx,
      TtyClient.Options o,
      String serverId,
      TtyKeys keys,
      Function<List<String>, SessionRecipients.ShareTargets> targets)
      throws Exception {
    try (Terminal t = TerminalBuilder.builder().system(true).build()) {
      TerminalListener ending = new TerminalListener(t.output());
      String term = ctx.env().getOrDefault("TERM", "xterm-256color");
      TtyClient c =
          await(
              connect(
                  vertx,
                  o,
                  serverId,
                  Math.max(1, t.getWidth()),
                  Math.max(1, t.getHeight()),
                  term,
                  ending));
      Attributes saved = t.enterRawMode();
      t.handle(
          Terminal.Signal.WINCH,
          s -> c.resize(Math.max(1, t.getWidth()), Math.max(1, t.getHeight())));
      if (join != null || attach != null) {
        c.resize(Math.max(1, t.getWidth()), Math.max(1, t.getHeight()));
      }
      try (ControlSocket control =
          ControlSocket.listen(
              keys.dir(), c.sessionId(), line -> ControlLines.handle(c, line, targets))) {
        ctx.err()
            .print(
                "[umbra] session "
                    + c.sessionId()
                    + " (~. detach, ~r ask for control, ~? help)\r\n");
        Thread reader =
            Thread.ofPlatform()
                .daemon()
                .name("tty-stdin")
                .start(() -> KeystrokePump.pump(t.input(), KeystrokePump.of(c), ending));
        Integer status = ending.done.get();
        reader.interrupt();
        t.setAttributes(saved);
        if (status == null) {
          if (ending.reason().equals("detached")) {
            ctx.err()
                .println(
                    "\r\n[umbra] detached; the shell keeps running: umbra tty --attach "
                        + c.sessionId());
            return 0;
          }
          throw new CliException("session closed: " + ending.reason());
        }
        return status;
      }
    }
  }
}
