package dev.umbra.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.cli.testing.UmbraRun;
import dev.umbra.client.http.JsonHttp;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Walks the whole command tree (docs/cli.md, "Mistakes and exit codes"): every command and group
 * answers {@code --help} and {@code -h}, every mistake in a command line is a usage error (exit 2,
 * stderr) with a "did you mean" when a real name is close. Each walk collects every failing command
 * line and asserts the list is empty, so one run shows all of them. Nothing here logs in: a mistake
 * must be caught before a command runs.
 */
class CommandTreeTest {
  Path home;

  record Run(int code, String out, String err) {
    String describe(List<String> args) {
      return "umbra "
          + String.join(" ", args)
          + " -> "
          + code
          + "\nstdout: "
          + out
          + "\nstderr: "
          + err;
    }
  }

  /** One node of the tree: the words that reach it and its picocli model. */
  record Node(List<String> path, CommandLine cmd) {
    String name() {
      return cmd.getCommandSpec().qualifiedName();
    }

    List<String> with(String... more) {
      List<String> args = new ArrayList<>(path);
      args.addAll(List.of(more));
      return args;
    }
  }

  @BeforeEach
  void home() throws IOException {
    home = Files.createTempDirectory("umbra-tree").resolve("home");
  }

  Run umbra(List<String> args) {
    UmbraRun r = UmbraRun.of(home, Map.of(), List.of(), args.toArray(String[]::new));
    return new Run(r.code(), r.out(), r.err());
  }

  static List<Node> tree() {
    CliContext ctx =
        new CliContext(
            Path.of("unused"), System.out, System.err, Map.of(), new JsonHttp(), Clock.systemUTC());
    List<Node> nodes = new ArrayList<>();
    walk(new Node(List.of(), UmbraCli.commandLine(ctx, List.of())), nodes);
    return nodes;
  }

  private static void walk(Node node, List<Node> into) {
    into.add(node);
    node.cmd().getSubcommands().forEach((name, sub) -> walk(new Node(node.with(name), sub), into));
  }

  @Test
  void theWalkReachesEveryLevelOfTheTree() {
    assertThat(tree().stream().map(Node::name))
        .contains(
            "umbra",
            "umbra workspace",
            "umbra workspace list",
            "umbra tty",
            "umbra tty control",
            "umbra recordings",
            "umbra recordings export",
            "umbra audit query",
            "umbra run",
            "umbra forward");
    assertThat(tree()).hasSizeGreaterThan(60);
  }

  /**
   * The same command line through the whole tree, as before start-up built only the reachable part.
   */
  Run wholeTree(List<String> args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CliContext ctx =
        new CliContext(
            home,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            Map.of(),
            new JsonHttp(),
            Clock.systemUTC());
    int code = UmbraCli.commandLine(ctx, List.of()).execute(args.toArray(String[]::new));
    return new Run(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void theReachablePartOfTheTreeAnswersEveryCommandLineAsTheWholeTreeDoes() {
    List<List<String>> lines =
        new ArrayList<>(
            List.of(
                List.of(),
                List.of("--version"),
                List.of("-V"),
                List.of("--help"),
                List.of("--version", "machines"),
                List.of("machines", "--version"),
                List.of("-V", "-V"),
                List.of("plans"),
                List.of("--bogus"),
                List.of("machines", "list", "--bogus"),
                List.of("run"),
                List.of("run", "local"),
                List.of("machines", "lst")));
    for (Node node : tree()) {
      lines.add(node.path());
      lines.add(node.with("--help"));
      lines.add(node.with("--nope"));
    }
    List<String> failures = new ArrayList<>();
    for (List<String> args : lines) {
      Run lazy = umbra(args);
      Run whole = wholeTree(args);
      if (!lazy.equals(whole)) {
        failures.add(lazy.describe(args) + "\nwhole tree: " + whole.describe(args));
      }
    }
    assertThat(failures).isEmpty();
    assertThat(
            UmbraCli.reachable(
                new ArrayList<>(UmbraCli.commands()), new String[] {"machines", "list"}))
        .containsExactly(dev.umbra.cli.commands.MachinesCommand.class);
    assertThat(UmbraCli.reachable(new ArrayList<>(UmbraCli.commands()), new String[] {"--help"}))
        .hasSize(UmbraCli.commands().size());
  }

  @Test
  void everyCommandAndGroupAnswersHelpOnStdoutWithExitZero() {
    List<String> failures = new ArrayList<>();
    for (Node node : tree()) {
      for (String flag : List.of("--help", "-h")) {
        List<String> args = node.with(flag);
        Run r = umbra(args);
        if (r.code() != 0
            || !r.out().startsWith("Usage: " + node.name() + " ")
            || !r.err().isEmpty()) {
          failures.add(r.describe(args));
        }
      }
    }
    assertThat(failures).isEmpty();
  }

  @Test
  void aGroupWithoutItsCommandListsItsCommandsOnStderrWithExitTwo() {
    List<String> failures = new ArrayList<>();
    List<Node> groups = tree().stream().filter(n -> Usage.isGroup(n.cmd())).toList();
    assertThat(groups)
        .extracting(Node::name)
        .contains("umbra", "umbra workspace", "umbra recordings", "umbra audit");
    for (Node group : groups) {
      Run r = umbra(group.path());
      boolean listsAll =
          group.cmd().getSubcommands().keySet().stream()
              .allMatch(s -> r.err().contains("  " + s + " "));
      if (r.code() != 2
          || !r.out().isEmpty()
          || !r.err().contains("Usage: " + group.name() + " ")
          || !listsAll) {
        failures.add(r.describe(group.path()));
      }
    }
    assertThat(failures).isEmpty();
  }

  @Test
  void aMistypedCommandInEveryGroupIsAUsageErrorThatNamesTheClosestCommand() {
    List<String> failures = new ArrayList<>();
    for (Node group : tree().stream().filter(n -> Usage.isGroup(n.cmd())).toList()) {
      for (String real : group.cmd().getSubcommands().keySet()) {
        String typo = swapLastTwo(real);
        if (group.cmd().getSubcommands().containsKey(typo)) {
          continue;
        }
        // with and without --help: picocli alone answers `umbra plans --help` with the help of
        // `umbra`
        for (List<String> args : List.of(group.with(typo), group.with(typo, "--help"))) {
          Run r = umbra(args);
          if (r.code() != 2
              || !r.out().isEmpty()
              || !r.err().startsWith("umbra: '" + typo + "' is not ")
              || !r.err().contains("Did you mean ")
              || !r.err().contains("'" + group.name() + " " + real + "'")) {
            failures.add(r.describe(args));
          }
        }
      }
    }
    assertThat(failures).isEmpty();
  }

  private static String swapLastTwo(String s) {
    int n = s.length();
    return s.substring(0, n - 2) + s.charAt(n - 1) + s.charAt(n - 2);
  }

  @Test
  void anUnknownTopLevelCommandSaysItDoesNotExistAndPrintsNoHelp() {
    for (List<String> args :
        List.of(
            List.of("frobnicate"),
            List.of("frobnicate", "--help"),
            List.of("--help", "frobnicate"))) {
      Run r = umbra(args);
      assertThat(r.code()).as(r.describe(args)).isEqualTo(2);
      assertThat(r.out()).as(r.describe(args)).isEmpty();
      assertThat(r.err())
          .as(r.describe(args))
          .startsWith("umbra: 'frobnicate' is not an umbra command\n")
          .contains("Run 'umbra --help'")
          .doesNotContain("Did you mean");
    }
  }

  @Test
  void anUnknownOptionOnEveryCommandIsAUsageErrorNamingTheOptionAndTheCommand() {
    List<String> failures = new ArrayList<>();
    for (Node node : tree()) {
      for (List<String> args :
          List.of(node.with("--no-such-option"), node.with("--no-such-option", "--help"))) {
        Run r = umbra(args);
        if (r.code() != 2
            || !r.out().isEmpty()
            || !r.err()
                .startsWith("umbra: unknown option '--no-such-option' for '" + node.name() + "'\n")
            || !r.err().contains("Run '" + node.name() + " --help'")) {
          failures.add(r.describe(args));
        }
      }
    }
    assertThat(failures).isEmpty();
  }

  @Test
  void aMistypedOptionSuggestsTheRealOne() {
    Run r = umbra(List.of("machines", "list", "--jsno"));
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .startsWith(
            "umbra: unknown option '--jsno' for 'umbra machines list'\nDid you mean '--json'?\n");
  }

  @Test
  void anExtraArgumentOrAMissingOneIsAUsageError() {
    Run extra = umbra(List.of("machines", "list", "extra"));
    assertThat(extra.code()).isEqualTo(2);
    assertThat(extra.err())
        .startsWith("umbra: unexpected argument 'extra' for 'umbra machines list'\n");
    Run missing = umbra(List.of("machines", "rename", "one"));
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("<new-name>").contains("Run 'umbra machines rename --help'");
  }

  @Test
  void aMalformedArgumentFoundByTheCommandItselfIsAUsageErrorToo() {
    Run r = umbra(List.of("forward", "some-machine", "8080"));
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .isEqualTo(
            "umbra: expected <localport>:<host>:<port>, got '8080'\nRun 'umbra forward --help' for its usage.\n");
  }

  @Test
  void anAgentsMessageToSomethingOtherThanAnAccountIdSaysWhereToFindTheId() {
    Run r = umbra(List.of("agent", "send", "owner", "hello"));
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .startsWith("umbra: <member> must be the member's account id (a UUID), got 'owner'")
        .contains("`umbra agent recv` prints")
        .contains("`umbra members list`");
  }

  @Test
  void aFailureOfAWellFormedCommandStaysExitOne() {
    Run r = umbra(List.of("machines", "list"));
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).startsWith("umbra: not logged in");
  }

  /**
   * docs/cli.md holds the reference generated from the tree (every command that runs, with its
   * options). After changing a command, regenerate it: run this test with {@code
   * -Dumbra.docs.write=true}.
   */
  @Test
  void docsCliMdHoldsTheReferenceOfTheCommandTree() throws IOException {
    Path doc = Path.of("../../docs/cli.md");
    String text = Files.readString(doc);
    int begin = text.indexOf(REFERENCE_BEGIN);
    int end = text.indexOf(REFERENCE_END);
    assertThat(begin)
        .as("docs/cli.md has the markers of the generated reference")
        .isNotNegative()
        .isLessThan(end);
    String current = text.substring(begin + REFERENCE_BEGIN.length(), end);
    String generated = reference();
    if (Boolean.getBoolean("umbra.docs.write") && !current.equals(generated)) {
      Files.writeString(
          doc,
          text.substring(0, begin + REFERENCE_BEGIN.length()) + generated + text.substring(end));
      return;
    }
    assertThat(current)
        .as("docs/cli.md's command reference (regenerate: this test with -Dumbra.docs.write=true)")
        .isEqualTo(generated);
  }

  static final String REFERENCE_BEGIN =
      "<!-- generated by CommandTreeTest from the command tree; do not edit by hand -->\n";
  static final String REFERENCE_END = "<!-- end of the generated reference -->";

  /**
   * One line per command that runs (groups are in its name): its synopsis, then its description.
   */
  static String reference() {
    StringBuilder md = new StringBuilder("\n");
    for (Node node : tree()) {
      if (node.path().isEmpty() || Usage.isGroup(node.cmd())) {
        continue;
      }
      node.cmd().setUsageHelpWidth(1000);
      String synopsis = node.cmd().getHelp().synopsis(0).strip().replace(" [-h]", "");
      String description =
          String.join(" ", node.cmd().getCommandSpec().usageMessage().description());
      md.append("- `").append(synopsis).append("`: ").append(description).append('\n');
    }
    return md.append('\n').toString();
  }

  @Test
  void suggestionsComeByEditDistanceOverTheNamesGiven() {
    List<String> names =
        List.of(
            "workspace",
            "pair",
            "machines",
            "device",
            "devices",
            "recordings",
            "recovery-kit",
            "run");
    assertThat(Usage.closest("workspac", names)).containsExactly("workspace");
    assertThat(Usage.closest("mahcines", names)).containsExactly("machines");
    assertThat(Usage.closest("devics", names)).containsExactly("device", "devices");
    assertThat(Usage.closest("rec", names)).containsExactly("recordings", "recovery-kit");
    assertThat(Usage.closest("rn", names)).containsExactly("run");
    assertThat(Usage.closest("plans", names)).isEmpty();
    assertThat(Usage.closest("x", names)).isEmpty();
    assertThat(Usage.distance("kitten", "sitting")).isEqualTo(3);
    assertThat(Usage.distance("lsit", "list")).isEqualTo(1);
  }
}
