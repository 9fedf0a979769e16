package dev.umbra.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
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
