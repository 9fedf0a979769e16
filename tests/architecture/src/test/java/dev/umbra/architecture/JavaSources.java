package dev.umbra.architecture;

import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.util.JavacTask;
import com.sun.source.util.SourcePositions;
import com.sun.source.util.Trees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * The tree's Java sources for the rules that read them as code: found below the repository (never
 * under {@code target/}) and parsed with javac's own parser, so a method or a call is what the
 * compiler says it is and comments and strings are not code.
 */
final class JavaSources {
  private JavaSources() {}

  /** One parsed file: its path below the root, its tree and the tree's positions. */
  record Unit(String file, CompilationUnitTree tree, SourcePositions positions) {
    /** The line of {@code position} in this file. */
    long line(long position) {
      return tree.getLineMap().getLineNumber(position);
    }
  }

  /** What each parsed file is handed to. */
  interface Visitor {
    void visit(Unit unit) throws IOException;
  }

  /** The repository's root (the build runs this module two levels below it). */
  static Path repo() {
    return Path.of(System.getProperty("umbra.repo.dir", "../..")).toAbsolutePath().normalize();
  }

  /**
   * The {@code .java} files below {@code root} whose path (relative, with {@code /}) has {@code
   * sourceRoot} (e.g. {@code src/main/java/}) in it, outside {@code target/} and {@code
   * node_modules/}.
   */
  static List<Path> under(Path root, String sourceRoot) throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      return walk.filter(p -> p.toString().endsWith(".java"))
          .filter(
              p -> {
                String rel = root.relativize(p).toString().replace('\\', '/');
                return rel.contains(sourceRoot)
                    && !rel.contains("/target/")
                    && !rel.startsWith("target/")
                    && !rel.contains("node_modules/");
              })
          .toList();
    }
  }

  /** The tree's sources below {@code sourceRoot}: more than a hundred, or the walk went wrong. */
  static List<Path> all(String sourceRoot) throws IOException {
    List<Path> sources = under(repo(), sourceRoot);
    if (sources.size() <= 100) {
      throw new AssertionError(
          "only " + sources.size() + " sources in " + sourceRoot + " under " + repo());
    }
    return sources;
  }

  /**
   * Parses {@code sources} and hands each file to {@code visitor}, named relative to {@code root}.
   */
  static void parse(Path root, List<Path> sources, Visitor visitor) throws IOException {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    try (StandardJavaFileManager files = javac.getStandardFileManager(null, null, null)) {
      JavacTask task =
          (JavacTask)
              javac.getTask(
                  null,
                  files,
                  d -> {},
                  List.of("-proc:none"),
                  null,
                  files.getJavaFileObjectsFromPaths(sources));
      SourcePositions positions = Trees.instance(task).getSourcePositions();
      for (CompilationUnitTree unit : task.parse()) {
        String file =
            root.relativize(Path.of(unit.getSourceFile().toUri())).toString().replace('\\', '/');
        visitor.visit(new Unit(file, unit, positions));
      }
    }
  }
}
