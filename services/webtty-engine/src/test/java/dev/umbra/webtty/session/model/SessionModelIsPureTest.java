package dev.umbra.webtty.session.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The session model stays a plain model (docs/webtty.md, "Engine internals"): its sources import
 * only the JDK's collections, protobuf values, the WebTTY wire types and the kit's {@code Role} —
 * no Vert.x, no bus, no socket, no clock, no metrics or audit.
 */
class SessionModelIsPureTest {
  private static final Path MODEL = Path.of("src/main/java/dev/umbra/webtty/session/model");
  private static final List<String> ALLOWED =
      List.of(
          "import java.util.",
          "import com.google.protobuf.ByteString;",
          "import dev.umbra.proto.webtty.",
          "import dev.umbra.kit.auth.Role;",
          "import dev.umbra.webtty.session.model.");

  @Test
  void theModelImportsNoSocketBusClockOrEffect() throws IOException {
    List<String> wrong = new ArrayList<>();
    List<Path> sources;
    try (Stream<Path> files = Files.list(MODEL)) {
      sources = files.filter(p -> p.toString().endsWith(".java")).toList();
    }
    assertThat(sources)
        .as("the model's sources under %s", MODEL.toAbsolutePath())
        .hasSizeGreaterThanOrEqualTo(3);
    for (Path file : sources) {
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith("import ") && ALLOWED.stream().noneMatch(line::startsWith)) {
          wrong.add(file.getFileName() + ": " + line);
        }
      }
    }
    assertThat(wrong).isEmpty();
  }
}
