package dev.umbra.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * How the command tree answers mistakes and {@code --help} (docs/cli.md, "Mistakes and exit
 * codes"). {@link #install} gives every command and group {@code -h/--help} (help on stdout, exit
 * 0) and makes every mistake in the command line a usage error: one {@code umbra: ...} line on
 * stderr, a "did you mean" when a real name at that level is close, a pointer to {@code --help},
 * exit {@link UmbraCli#EXIT_USAGE}. An unknown word is an error even next to {@code --help}:
 * picocli alone would answer {@code umbra plans --help} with the top-level help and exit 0.
 */
final class Usage {
  static final String HELP_DESCRIPTION = "Show this help message and exit.";
  private static final int MAX_SUGGESTIONS = 3;

  private Usage() {}

  /** Call once the tree is complete (after any command the launcher adds). */
  static void install(CommandLine root) {
    addHelpOptions(root);
    root.setExecutionStrategy(Usage::execute);
    root.setParameterExceptionHandler(Usage::onParameterException);
  }

  /**
   * {@code -h/--help} on every command below the root (the root has picocli's standard help and
   * version options).
   */
  private static void addHelpOptions(CommandLine cmd) {
    CommandSpec spec = cmd.getCommandSpec();
    if (spec.options().stream().noneMatch(OptionSpec::usageHelp)) {
      spec.addOption(
          OptionSpec.builder("-h", "--help").usageHelp(true).description(HELP_DESCRIPTION).build());
    }
    for (CommandLine sub : distinct(cmd.getSubcommands().values())) {
      addHelpOptions(sub);
    }
  }

  private static List<CommandLine> distinct(Collection<CommandLine> subs) {
    return subs.stream().distinct().toList(); // aliases map to the same CommandLine
  }

  private static int execute(ParseResult parsed) {
    for (ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (!p.unmatched().isEmpty()) {
        // picocli keeps these quiet when help was asked for; they are mistakes all the same
        throw new UnmatchedArgumentException(p.commandSpec().commandLine(), p.unmatched());
      }
    }
    ParseResult last = parsed;
    boolean help = false;
    for (ParseResult p = parsed; p != null; p = p.subcommand()) {
      help |= p.isUsageHelpRequested() || p.isVersionHelpRequested();
      last = p;
    }
    CommandLine leaf = last.commandSpec().commandLine();
    if (!help && isGroup(leaf)) {
      PrintWriter err = leaf.getErr();
      err.println("umbra: '" + name(leaf) + "' needs a command:");
      leaf.usage(err);
      err.flush();
      return UmbraCli.EXIT_USAGE;
    }
    return new CommandLine.RunLast().execute(parsed);
  }

  /** A command that only holds subcommands (not runnable by itself). */
  static boolean isGroup(CommandLine cmd) {
    Object o = cmd.getCommand();
    return !cmd.getSubcommands().isEmpty()
        && !(o instanceof Runnable)
        && !(o instanceof Callable<?>);
  }

  private static int onParameterException(ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    PrintWriter err = cmd.getErr();
    List<String> unknown =
        ex instanceof UnmatchedArgumentException u ? u.getUnmatched() : unmatchedSoFar(cmd);
    if (!unknown.isEmpty()) {
      // an unknown word says more than the missing parameter picocli checks first
      unmatched(err, cmd, new UnmatchedArgumentException(cmd, unknown));
    } else {
      err.println("umbra: " + ex.getMessage());
    }
    pointToHelp(err, cmd);
    err.flush();
    return UmbraCli.EXIT_USAGE;
  }

  private static List<String> unmatchedSoFar(CommandLine cmd) {
    ParseResult partial = cmd.getParseResult();
    return partial == null ? List.of() : partial.unmatched();
  }

  private static void unmatched(PrintWriter err, CommandLine cmd, UnmatchedArgumentException u) {
    List<String> words = u.getUnmatched();
    String option =
        u.isUnknownOption()
            ? words.stream().filter(w -> w.startsWith("-")).findFirst().orElse(null)
            : null;
    if (option != null) {
      String typed = option.contains("=") ? option.substring(0, option.indexOf('=')) : option;
      err.println("umbra: unknown option '" + typed + "' for '" + name(cmd) + "'");
      didYouMean(err, closest(typed, optionNames(cmd)));
      return;
    }
    String word = words.get(0);
    if (!cmd.getSubcommands().isEmpty() && cmd.getCommandSpec().positionalParameters().isEmpty()) {
      err.println(
          "umbra: '"
              + word
              + "' is not "
              + (cmd.getParent() == null
                  ? "an umbra command"
                  : "a command of '" + name(cmd) + "'"));
      String prefix = name(cmd) + " ";
      didYouMean(
          err, closest(word, cmd.getSubcommands().keySet()).stream().map(s -> prefix + s).toList());
    } else {
      err.println("umbra: unexpected argument '" + word + "' for '" + name(cmd) + "'");
    }
  }

  private static void didYouMean(PrintWriter err, List<String> names) {
    if (!names.isEmpty()) {
      err.println(
          "Did you mean "
              + String.join(" or ", names.stream().map(n -> "'" + n + "'").toList())
              + "?");
    }
  }

  private static void pointToHelp(PrintWriter err, CommandLine cmd) {
    err.println(
        "Run '"
            + name(cmd)
            + " --help' for "
            + (cmd.getSubcommands().isEmpty() ? "its usage." : "its commands."));
  }

  private static List<String> optionNames(CommandLine cmd) {
    List<String> names = new ArrayList<>();
    for (OptionSpec o : cmd.getCommandSpec().options()) {
      names.addAll(List.of(o.names()));
    }
    return names;
  }

  static String name(CommandLine cmd) {
    return cmd.getCommandSpec().qualifiedName();
  }

  /**
   * The names close to what was typed, closest first: an edit distance (insertions, deletions,
   * substitutions, swaps of neighbours) of at most a third of the typed length (at least 1), or
   * names the typed word of three letters or more begins. Leading dashes of options are ignored.
   */
  static List<String> closest(String typed, Collection<String> names) {
    String t = typed.replaceFirst("^-+", "");
    if (t.length() < 2) {
      return List.of();
    }
    int limit = Math.max(1, t.length() / 3);
    record Candidate(String name, int distance) {}
    List<Candidate> close = new ArrayList<>();
    for (String name : names.stream().distinct().toList()) {
      String n = name.replaceFirst("^-+", "");
      int d = distance(t, n);
      if (d <= limit) {
        close.add(new Candidate(name, d));
      } else if (t.length() >= 3 && n.startsWith(t)) {
        close.add(new Candidate(name, limit + 1));
      }
    }
    return close.stream()
        .sorted(Comparator.comparingInt(Candidate::distance).thenComparing(Candidate::name))
        .limit(MAX_SUGGESTIONS)
        .map(Candidate::name)
        .toList();
  }

  /** Optimal string alignment distance (Levenshtein with adjacent transpositions). */
  static int distance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }
}
