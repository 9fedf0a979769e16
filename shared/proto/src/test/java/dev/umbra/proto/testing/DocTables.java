package dev.umbra.proto.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The rows of a docs table, for tests that check a table lists exactly an enum. */
public final class DocTables {
  private DocTables() {}

  /**
   * The first-column codes ({@code | `code` |}) of the rows in section {@code heading} (a {@code
   * ##} heading, up to the next one) of {@code doc}.
   *
   * @throws AssertionError when the document has no such section
   */
  public static Set<String> codesInSection(Path doc, String heading) throws IOException {
    String text = Files.readString(doc, StandardCharsets.UTF_8);
    int start = text.indexOf("\n## " + heading);
    if (start < 0) {
      throw new AssertionError(doc + " has no section '" + heading + "'");
    }
    int end = text.indexOf("\n## ", start + 1);
    String section = text.substring(start, end < 0 ? text.length() : end);
    Set<String> codes = new TreeSet<>();
    Matcher m = Pattern.compile("(?m)^\\| `([a-z0-9_]+)` \\|").matcher(section);
    while (m.find()) {
      codes.add(m.group(1));
    }
    return codes;
  }
}
