package dev.umbra.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.source.tree.LiteralTree;
import com.sun.source.tree.Tree;
import com.sun.source.util.TreeScanner;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the commands print on a terminal is ASCII: no string literal of the main sources of the
 * launcher, the CLI, the daemon and the client library holds another character. The JVM writes
 * standard output in the locale's charset, and where none is set (a login shell of a new user, a
 * service, {@code sudo}) that is ASCII: {@code umbra dev} printed "ready in 36.7 s ? control plane
 * at" for its em dash (2026-12-06). Comments are not scanned (javac's parser reads literals only).
 */
class AsciiOutputTest {
  static final List<String> MODULES =
      List.of("launcher/", "clients/cli/", "clients/daemon/", "clients/core/");

  @Test
  void theCommandsPrintOnlyAsciiWhateverTheLocale() throws IOException {
    Path root = JavaSources.repo();
    List<Path> sources = new ArrayList<>();
    for (String module : MODULES) {
      sources.addAll(JavaSources.under(root.resolve(module), "src/main/java/"));
    }
    assertThat(sources).as("the walk found the modules' sources").hasSizeGreaterThan(100);
    List<String> found = new ArrayList<>();
    JavaSources.parse(root, sources, unit -> new NonAscii(unit, found).scan(unit.tree(), null));
    assertThat(found)
        .as("non-ASCII in printed strings: a locale without UTF-8 shows '?' (use -, ..., :)")
        .isEmpty();
  }

  /** Adds each string literal of {@code unit} holding a non-ASCII character to {@code found}. */
  private static final class NonAscii extends TreeScanner<Void, Void> {
    private final JavaSources.Unit unit;
    private final List<String> found;

    NonAscii(JavaSources.Unit unit, List<String> found) {
      this.unit = unit;
      this.found = found;
    }

    @Override
    public Void visitLiteral(LiteralTree literal, Void unused) {
      if (literal.getKind() == Tree.Kind.STRING_LITERAL
          && !((String) literal.getValue()).chars().allMatch(c -> c < 0x80)) {
        long at = unit.positions().getStartPosition(unit.tree(), literal);
        found.add(unit.file() + ":" + unit.line(at) + " " + literal);
      }
      return super.visitLiteral(literal, unused);
    }
  }
}
