package dev.umbra.cli;

import dev.umbra.cli.commands.LoginCommand;
import dev.umbra.cli.commands.MachinesCommand;
import dev.umbra.cli.commands.MembersCommand;
import dev.umbra.cli.commands.PairCommand;
import dev.umbra.cli.commands.TokensCommand;
import dev.umbra.cli.commands.WorkspaceCommand;
import dev.umbra.client.http.ApiError;
import dev.umbra.client.http.ClientTls;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.crypto.CryptoException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.reflect.Constructor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code umbra} command. Every subcommand is listed once, in the annotation below; a command
 * class gets the {@link CliContext} through a constructor taking it. {@link #execute} never exits
 * the JVM: it returns the exit code ({@link #EXIT_OK}, {@link #EXIT_FAILURE}, {@link #EXIT_USAGE}).
 * Help goes to {@code out}, every error to {@code err}; {@link Usage} makes mistakes in the command
 * line usage errors with a suggestion and gives every command {@code -h/--help} (docs/cli.md).
 */
@Command(
    name = "umbra",
    mixinStandardHelpOptions = true,
    version = UmbraCli.VERSION,
    description = "Umbra: reach your machines end-to-end encrypted.")
public final class UmbraCli {
  /** The command did what it was asked. */
  public static final int EXIT_OK = 0;

  /** A well-formed command failed (one line on stderr). */
  public static final int EXIT_FAILURE = 1;

  /**
   * The command line is wrong: unknown command or option, missing or malformed argument, a group
   * without its command.
   */
  public static final int EXIT_USAGE = 2;

  /** What {@code umbra --version} prints. */
  public static final String VERSION = "umbra 0.1.0";

  /**
   * Every subcommand, in the order of the help. They are added in code, not in the annotation, so
   * that a command line builds only the part of the tree it can reach (see {@link #reachable}).
   */
  static List<Class<?>> commands() {
    return List.of(
        LoginCommand.class,
        WorkspaceCommand.class,
        PairCommand.class,
        MachinesCommand.class,
        TokensCommand.class,
        MembersCommand.class,
        dev.umbra.cli.audit.AuditCommand.class,
        dev.umbra.cli.devices.DeviceCommand.class,
        dev.umbra.cli.devices.DevicesCommand.class,
        dev.umbra.cli.recovery.RecoveryKitCommand.class,
        dev.umbra.cli.vault.VaultCommand.class,
        dev.umbra.cli.tty.TtyCommand.class,
        dev.umbra.cli.tty.RecordingsCommand.class,
        dev.umbra.cli.relay.RunCommand.class,
        dev.umbra.cli.relay.ForwardCommand.class,
        dev.umbra.cli.messaging.MsgCommand.class,
        dev.umbra.cli.messaging.AgentsCommand.class,
        dev.umbra.cli.messaging.AgentCommand.class,
        dev.umbra.cli.work.PlansCommand.class,
        dev.umbra.cli.work.InboxCommand.class,
        dev.umbra.cli.work.RunsCommand.class,
        dev.umbra.cli.agent.AgentSessionCommand.class,
        dev.umbra.cli.work.WorkflowsCommand.class);
  }

  public static int execute(Path umbraHome, PrintStream out, PrintStream err, String... args) {
    return execute(umbraHome, out, err, System.getenv(), args);
  }

  public static int execute(
      Path umbraHome, PrintStream out, PrintStream err, Map<String, String> env, String... args) {
    return execute(umbraHome, out, err, env, List.of(), args);
  }

  /**
   * As above, with commands of the caller added at the top level (the launcher's {@code umbra
   * dev}), so that help, suggestions and usage errors know them too.
   */
  public static int execute(
      Path umbraHome,
      PrintStream out,
      PrintStream err,
      Map<String, String> env,
      List<Object> extraCommands,
      String... args) {
    if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
      // what picocli prints for the root's version option, without loading picocli (most of the
      // time)
      out.println(VERSION);
      out.flush();
      return EXIT_OK;
    }
    ClientTls tls;
    try {
      tls = ClientTls.fromEnvironment(env);
    } catch (IllegalArgumentException e) {
      err.println("umbra: " + e.getMessage());
      err.flush();
      return EXIT_USAGE;
    }
    CliContext ctx = new CliContext(umbraHome, out, err, env, new JsonHttp(tls), Clock.systemUTC());
    int code = commandLine(ctx, extraCommands, args).execute(args);
    out.flush();
    err.flush();
    return code;
  }

  /**
   * The whole command tree, wired to the context's streams, with its help options and error
   * handling.
   */
  static CommandLine commandLine(CliContext ctx, List<Object> extraCommands) {
    List<Object> all = new ArrayList<>(commands());
    all.addAll(extraCommands);
    return tree(ctx, all);
  }

  /**
   * The part of the tree {@code args} can reach (see {@link #reachable}), wired like the whole one.
   */
  static CommandLine commandLine(CliContext ctx, List<Object> extraCommands, String[] args) {
    List<Object> all = new ArrayList<>(commands());
    all.addAll(extraCommands);
    return tree(ctx, reachable(all, args));
  }

  /**
   * The top-level commands a command line can reach. Picocli reads every command class of the tree
   * by reflection when it is built, which is most of a short command's start-up, so: when the first
   * word names a command, only that command's subtree (the root's own options come before the first
   * command, so nothing else can be reached); otherwise (help, mistakes, no command) all of them,
   * so that help and "did you mean" see every name.
   */
  static List<Object> reachable(List<Object> commands, String[] args) {
    if (args.length > 0) {
      for (Object c : commands) {
        Command a = (c instanceof Class<?> k ? k : c.getClass()).getAnnotation(Command.class);
        if (a != null
            && (a.name().equals(args[0]) || Arrays.asList(a.aliases()).contains(args[0]))) {
          return List.of(c);
        }
      }
    }
    return commands;
  }

  private static CommandLine tree(CliContext ctx, List<Object> subcommands) {
    CommandLine cmd = new CommandLine(new UmbraCli(), new ContextFactory(ctx));
    subcommands.forEach(cmd::addSubcommand);
    cmd.setOut(new PrintWriter(ctx.out(), true, StandardCharsets.UTF_8));
    cmd.setErr(new PrintWriter(ctx.err(), true, StandardCharsets.UTF_8));
    cmd.setExecutionExceptionHandler(
        (e, line, parsed) -> {
          PrintStream err = ctx.err();
          err.println("umbra: " + message(e));
          if (e instanceof UsageException) {
            err.println("Run '" + Usage.name(line) + " --help' for its usage.");
          }
          err.flush();
          return e instanceof UsageException ? EXIT_USAGE : EXIT_FAILURE;
        });
    Usage.install(cmd);
    return cmd;
  }

  private static String message(Exception e) {
    if (e instanceof ApiError api) {
      return api.describe();
    }
    if (e instanceof CliException
        || e instanceof UsageException
        || e instanceof CryptoException
        || e instanceof java.io.UncheckedIOException) {
      return e.getMessage();
    }
    return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
  }

  public static void main(String[] args) {
    String home = System.getenv("UMBRA_HOME");
    Path umbraHome =
        home == null || home.isBlank()
            ? Path.of(System.getProperty("user.home"), ".umbra")
            : Path.of(home);
    System.exit(execute(umbraHome.toAbsolutePath(), System.out, System.err, args));
  }

  /** Builds command classes, passing the context to those whose constructor takes it. */
  private static final class ContextFactory implements CommandLine.IFactory {
    private final CliContext ctx;
    private final CommandLine.IFactory fallback = CommandLine.defaultFactory();

    ContextFactory(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public <K> K create(Class<K> type) throws Exception {
      try {
        Constructor<K> c = type.getDeclaredConstructor(CliContext.class);
        return c.newInstance(ctx);
      } catch (NoSuchMethodException e) {
        return fallback.create(type);
      }
    }
  }
}
