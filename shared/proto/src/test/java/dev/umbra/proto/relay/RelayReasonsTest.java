package dev.umbra.proto.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.proto.testing.DocTables;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The one table of the relay's reasons: the proto enum, the docs table (docs/relay.md, "Reasons")
 * and the relay's code agree; the relay writes a reason (ERROR, its CLOSE, a WebSocket close) only
 * from the enum.
 */
class RelayReasonsTest {
  private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();

  @Test
  void wireStringsAreTheLowerCaseNamesAndParseBack() {
    assertThat(RelayReasons.wire(RelayReason.RELAY_REASON_UNKNOWN_TARGET))
        .isEqualTo("unknown_target");
    assertThat(RelayReasons.wire(RelayReason.RELAY_REASON_RELAY_STOPPING))
        .isEqualTo("relay_stopping");
    for (var e : RelayReasons.all().entrySet()) {
      assertThat(RelayReasons.parse(e.getKey())).contains(e.getValue());
      assertThat(e.getKey()).matches("[a-z][a-z0-9_]{0,63}");
    }
    assertThat(RelayReasons.all()).hasSize(RelayReason.values().length - 2);
    assertThat(RelayReasons.parse("")).isEmpty();
    assertThat(RelayReasons.parse("done")).as("a channel-layer code").isEmpty();
    assertThat(RelayReasons.parse("Unknown_Target")).isEmpty();
    assertThatThrownBy(() -> RelayReasons.wire(RelayReason.RELAY_REASON_UNSPECIFIED))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theDocsTableListsExactlyTheEnum() throws IOException {
    assertThat(DocTables.codesInSection(ROOT.resolve("docs/relay.md"), "Reasons"))
        .isEqualTo(new TreeSet<>(RelayReasons.all().keySet()));
  }

  /** No reason is spelled as a string literal where the relay sets a frame's or a socket's. */
  @Test
  void theRelaySetsReasonsOnlyFromTheEnum() throws IOException {
    Pattern literal =
        Pattern.compile(
            "\\.setReason\\(\\s*\"|RelayFrames\\.(error|close)\\([^;]*\"|close\\([^;]*CLOSE_[A-Z_]+\\s*,\\s*\"|\\.close\\(\\s*\\(short\\)");
    List<String> found = new ArrayList<>();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(ROOT.resolve("services/relay/src/main/java"))) {
      files = walk.filter(p -> p.toString().endsWith(".java")).toList();
    }
    assertThat(files).isNotEmpty();
    for (Path f : files) {
      String src = Files.readString(f, StandardCharsets.UTF_8);
      Matcher m = literal.matcher(src);
      while (m.find()) {
        found.add(ROOT.relativize(f) + ": " + src.substring(m.start(), m.end()));
      }
    }
    assertThat(found).isEmpty();
  }
}
