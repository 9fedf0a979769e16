package dev.umbra.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.http.EdgeLimits;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md names every {@code UMBRA_*} variable the code reads: each string literal
 * {@code "UMBRA_..."} in any module's main sources must appear in the doc as {@code `UMBRA_...`}
 * (its "Every variable" index gives the default and where it is described).
 */
class ConfigurationDocsTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Pattern LITERAL = Pattern.compile("\"(UMBRA_[A-Z0-9_]*[A-Z0-9])\"");

  @Test
  void theNetworkEdgeDefaultsConfigurationMdStatesAreTheCodes() throws IOException {
    String doc = Files.readString(ROOT.resolve("docs/configuration.md"), StandardCharsets.UTF_8);
    Map<String, Integer> code =
        Map.of(
            EdgeLimits.IDLE_TIMEOUT_ENV, EdgeLimits.DEFAULT_IDLE_TIMEOUT_MS,
            EdgeLimits.REQUEST_TIMEOUT_ENV, EdgeLimits.DEFAULT_REQUEST_TIMEOUT_MS,
            EdgeLimits.MAX_CONNECTIONS_ENV, EdgeLimits.DEFAULT_MAX_CONNECTIONS,
            EdgeLimits.MAX_CONNECTIONS_PER_IP_ENV, EdgeLimits.DEFAULT_MAX_CONNECTIONS_PER_IP,
            EdgeLimits.ADMIN_FAILURES_ENV, EdgeLimits.DEFAULT_ADMIN_FAILURES_PER_MINUTE);
    Map<String, String> documented = new TreeMap<>();
    for (String v : code.keySet()) {
      Matcher m = Pattern.compile("\\| `" + v + "` \\| `([0-9]+)` \\|").matcher(doc);
      documented.put(v, m.find() ? m.group(1) : "(no row)");
    }
    Map<String, String> expected = new TreeMap<>();
    code.forEach((v, d) -> expected.put(v, Integer.toString(d)));
    assertThat(documented).isEqualTo(expected);
  }

  @Test
  void everyVariableTheCodeReadsIsInConfigurationMd() throws IOException {
    Set<String> read = new TreeSet<>();
    try (Stream<Path> files = Files.walk(ROOT)) {
      for (Path f :
          files
              .filter(
                  p ->
                      p.toString().endsWith(".java")
                          && p.toString().contains("/src/main/java/")
                          && !p.toString().contains("/target/")
                          && !p.toString().contains("/node_modules/"))
              .toList()) {
        Matcher m = LITERAL.matcher(Files.readString(f, StandardCharsets.UTF_8));
        while (m.find()) {
          read.add(m.group(1));
        }
      }
    }
    assertThat(read)
        .contains(
            "UMBRA_PG_URL", "UMBRA_TTY_JOIN", "UMBRA_WEBTTY_DETACH_SECONDS"); // the scan finds them
    String doc = Files.readString(ROOT.resolve("docs/configuration.md"), StandardCharsets.UTF_8);
    Set<String> missing = new TreeSet<>();
    for (String v : read) {
      if (!doc.contains("`" + v + "`")) {
        missing.add(v);
      }
    }
    assertThat(missing)
        .as("variables read by the code but not named in docs/configuration.md")
        .isEmpty();
  }
}
