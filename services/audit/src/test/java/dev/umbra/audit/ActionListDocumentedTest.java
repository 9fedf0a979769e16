package dev.umbra.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.audit.AuditAction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** docs/audit.md and {@link AuditAction} enumerate the same actions. */
class ActionListDocumentedTest {

  @Test
  void everyActionIsDocumentedAndEveryDocumentedActionExists() throws Exception {
    Path doc = Path.of(System.getProperty("umbra.repo.dir", "../.."), "docs", "audit.md");
    Set<String> documented = new LinkedHashSet<>();
    Matcher m =
        Pattern.compile("(?m)^\\| `([a-z_]+(?:\\.[a-z_]+)+)` \\|").matcher(Files.readString(doc));
    while (m.find()) {
      documented.add(m.group(1));
    }
    Set<String> code =
        Stream.of(AuditAction.values()).map(AuditAction::wire).collect(Collectors.toSet());
    assertThat(documented).containsExactlyInAnyOrderElementsOf(code);
  }
}
