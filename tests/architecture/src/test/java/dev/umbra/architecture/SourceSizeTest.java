package dev.umbra.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.source.tree.ClassTree;
import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.LambdaExpressionTree;
import com.sun.source.tree.MethodTree;
import com.sun.source.util.SourcePositions;
import com.sun.source.util.TreePathScanner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "No main source file over 600 lines; no method over 80 lines" (issue 16), measured by parsing
 * every main source file of the tree with javac's own parser (so a method is what the compiler says
 * it is, lambdas and anonymous classes included in their enclosing method's span).
 *
 * <p>The classes that were over the limits when the rule arrived are listed in {@link #KNOWN} with
 * their size then: they may only shrink (the test fails when one grows, and when one is no longer
 * over so that the entry must be deleted). Everything else must be within the limits.
 */
class SourceSizeTest {

  static final int MAX_FILE_LINES = 600;
  static final int MAX_METHOD_LINES = 80;

  /**
   * Over the limits when the rule arrived: path or path#method → lines then. Only shrinks; empty
   * now that every listed file and method was split.
   */
  static final Map<String, Integer> KNOWN = new TreeMap<String, Integer>();

  static Map<String, Integer> measured;

  @BeforeAll
  static void measureTheTree() throws IOException {
    measured = measure(JavaSources.repo(), JavaSources.all("src/main/java/"));
  }

  /**
   * Files over {@link #MAX_FILE_LINES} and methods over {@link #MAX_METHOD_LINES}, with their
   * lines.
   */
  static Map<String, Integer> measure(Path root, List<Path> sources) throws IOException {
    Map<String, Integer> over = new TreeMap<>();
    JavaSources.parse(
        root,
        sources,
        unit -> {
          CompilationUnitTree tree = unit.tree();
          SourcePositions positions = unit.positions();
          String file = unit.file();
          long lines = unit.line(positions.getEndPosition(tree, tree));
          if (lines > MAX_FILE_LINES) {
            over.put(file, (int) lines);
          }
          new TreePathScanner<Void, String>() {
            @Override
            public Void visitClass(ClassTree node, String owner) {
              String name =
                  owner.isEmpty()
                      ? node.getSimpleName().toString()
                      : owner + "." + node.getSimpleName();
              return super.visitClass(node, name);
            }

            @Override
            public Void visitMethod(MethodTree node, String owner) {
              long start = unit.line(positions.getStartPosition(tree, node));
              long end = unit.line(positions.getEndPosition(tree, node));
              long span = end - start + 1;
              if (span > MAX_METHOD_LINES) {
                over.merge(file + "#" + owner + "." + node.getName(), (int) span, Math::max);
              }
              return null; // a method's lambdas and local classes count in its own span
            }

            @Override
            public Void visitLambdaExpression(LambdaExpressionTree node, String owner) {
              return null;
            }
          }.scan(tree, "");
        });
    return over;
  }

  @Test
  void noNewFileOver600LinesAndNoNewMethodOver80() {
    List<String> news = new ArrayList<>();
    measured.forEach(
        (where, lines) -> {
          if (!KNOWN.containsKey(where)) {
            news.add(where + " (" + lines + " lines)");
          }
        });
    assertThat(news)
        .as(
            "over %d lines per main source file or %d per method: split it (routes → service → store, "
                + "a state machine, smaller methods)",
            MAX_FILE_LINES, MAX_METHOD_LINES)
        .isEmpty();
  }

  @Test
  void knownOversizedCodeOnlyShrinksAndLeavesTheListWhenWithinTheLimits() {
    List<String> wrong = new ArrayList<>();
    KNOWN.forEach(
        (where, then) -> {
          Integer now = measured.get(where);
          if (now == null) {
            wrong.add(
                where
                    + " is within the limits now (or gone): delete its entry in SourceSizeTest.KNOWN");
          } else if (now > then) {
            wrong.add(where + " grew from " + then + " to " + now + " lines");
          }
        });
    assertThat(wrong).isEmpty();
  }

  @Test
  void theMeasureFindsAFileOver600LinesAndAMethodOver80ButNotOneOf80(@TempDir Path dir)
      throws IOException {
    StringBuilder src = new StringBuilder("package x;\nclass Big {\n");
    src.append("  void longest() {\n")
        .append("    int a = 0;\n".repeat(79))
        .append("  }\n"); // 81 lines
    src.append("  void justFits() {\n")
        .append("    int b = 0;\n".repeat(78))
        .append("  }\n"); // 80 lines
    src.append("  int f;\n".repeat(500)).append("}\n");
    Path big = Files.writeString(dir.resolve("Big.java"), src);
    Map<String, Integer> over = measure(dir, List.of(big));
    assertThat(over).containsOnlyKeys("Big.java", "Big.java#Big.longest");
    assertThat(over.get("Big.java#Big.longest")).isEqualTo(81);
    assertThat(over.get("Big.java")).isGreaterThan(MAX_FILE_LINES);
  }
}
