package dev.umbra.proto.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.proto.relay.RelayReasons;
import dev.umbra.proto.testing.DocTables;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The one table of the channel layer's reasons: the proto enum, the docs table (docs/relay.md,
 * "Channel reasons") and the code of both ends agree; the daemon and the client write and compare a
 * reason only through the enum.
 */
class ChannelReasonsTest {
  private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();

  /** Where channel close reasons and error codes are written and read. */
  private static final List<String> CHANNEL_CODE =
      List.of(
          "clients/daemon/src/main/java/dev/umbra/daemon/channel",
          "clients/daemon/src/main/java/dev/umbra/daemon/agent",
          "clients/core/src/main/java/dev/umbra/client/channel",
          "clients/cli/src/main/java/dev/umbra/cli/relay",
          "clients/cli/src/main/java/dev/umbra/cli/agent");

  @Test
  void wireStringsAreTheLowerCaseNamesAndParseBack() {
    assertThat(ChannelReasons.wire(ChannelReason.CHANNEL_REASON_DONE)).isEqualTo("done");
    assertThat(ChannelReasons.wire(ChannelReason.CHANNEL_REASON_DECRYPT_FAILED))
        .isEqualTo("decrypt_failed");
    assertThat(ChannelReasons.wire(ChannelReason.CHANNEL_REASON_STATIC_KEY_NOT_BOUND))
        .isEqualTo("static_key_not_bound");
    for (var e : ChannelReasons.all().entrySet()) {
      assertThat(ChannelReasons.parse(e.getKey())).contains(e.getValue());
      assertThat(e.getKey()).matches("[a-z][a-z0-9_]{0,31}");
    }
    assertThat(ChannelReasons.all()).hasSize(ChannelReason.values().length - 2);
    assertThat(ChannelReasons.parse("")).isEmpty();
    assertThat(ChannelReasons.parse("unknown_target")).as("a relay reason").isEmpty();
    assertThat(ChannelReasons.parse("Done")).isEmpty();
    assertThatThrownBy(() -> ChannelReasons.wire(ChannelReason.CHANNEL_REASON_UNSPECIFIED))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ChannelReasons.wire(ChannelReason.UNRECOGNIZED))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** A CLOSE's reason is read as the relay's or the channel layer's: never both. */
  @Test
  void noWireStringIsBothARelayAndAChannelReason() {
    Set<String> both = new HashSet<>(ChannelReasons.all().keySet());
    both.retainAll(RelayReasons.all().keySet());
    assertThat(both).isEmpty();
  }

  @Test
  void theDocsTableListsExactlyTheEnum() throws IOException {
    assertThat(DocTables.codesInSection(ROOT.resolve("docs/relay.md"), "Channel reasons"))
        .isEqualTo(new TreeSet<>(ChannelReasons.all().keySet()));
  }

  /**
   * No channel or relay reason is spelled as a string literal where clients and daemons write,
   * compare or describe one.
   */
  @Test
  void bothEndsUseOnlyTheEnums() throws IOException {
    Set<String> codes = new HashSet<>(ChannelReasons.all().keySet());
    codes.addAll(RelayReasons.all().keySet());
    Pattern literal = Pattern.compile("\"([a-z][a-z0-9_]*)\"");
    List<String> found = new ArrayList<>();
    int scanned = 0;
    for (String dir : CHANNEL_CODE) {
      List<Path> files;
      try (Stream<Path> walk = Files.walk(ROOT.resolve(dir))) {
        files = walk.filter(p -> p.toString().endsWith(".java")).toList();
      }
      assertThat(files).as(dir).isNotEmpty();
      for (Path f : files) {
        scanned++;
        String src = Files.readString(f, StandardCharsets.UTF_8);
        Matcher m = literal.matcher(src);
        while (m.find()) {
          if (codes.contains(m.group(1))) {
            found.add(ROOT.relativize(f) + ": " + m.group());
          }
        }
      }
    }
    assertThat(scanned).isGreaterThan(10);
    assertThat(found).isEmpty();
  }
}
