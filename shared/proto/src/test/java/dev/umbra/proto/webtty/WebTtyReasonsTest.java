package dev.umbra.proto.webtty;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.proto.testing.DocTables;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The one table of WebTTY reasons: the proto enum, the docs table (docs/webtty.md, "Reasons") and
 * the code that emits reasons agree. The engine, the daemon's WebTTY server and client, and the
 * CLI's tty commands set a frame's reason or a WebSocket close reason only from the enum; the
 * daemon's refusal codes (its own checks and the client authorizers) each have their {@code
 * proof_refused_*} (and, for the authorizers, {@code client_refused_*}) row.
 */
class WebTtyReasonsTest {
  private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();

  /** Where WebTTY reasons are emitted. */
  private static final List<Path> EMITTERS =
      List.of(
          ROOT.resolve("services/webtty-engine/src/main/java"),
          ROOT.resolve("clients/daemon/src/main/java/dev/umbra/daemon/tty"),
          ROOT.resolve("clients/core/src/main/java/dev/umbra/client/tty"),
          ROOT.resolve("clients/cli/src/main/java/dev/umbra/cli/tty"));

  @Test
  void wireStringsAreTheLowerCaseNamesAndParseBack() {
    assertThat(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_NO_GRANT)).isEqualTo("no_grant");
    assertThat(WebTtyReasons.wire(WebTtyReason.WEBTTY_REASON_PROOF_REFUSED_DEVICE_REVOKED))
        .isEqualTo("proof_refused_device_revoked");
    for (var e : WebTtyReasons.all().entrySet()) {
      assertThat(WebTtyReasons.parse(e.getKey())).contains(e.getValue());
      assertThat(e.getKey())
          .matches("[a-z][a-z0-9_]{0,63}"); // the engine refuses a reason over 64 characters
    }
    assertThat(WebTtyReasons.parse("")).isEmpty();
    assertThat(WebTtyReasons.parse("No_Grant")).isEmpty();
    assertThat(WebTtyReasons.proofRefused("something_new"))
        .isEqualTo(WebTtyReason.WEBTTY_REASON_PROOF_REFUSED);
  }

  @Test
  void theDocsTableListsExactlyTheEnum() throws IOException {
    assertThat(DocTables.codesInSection(ROOT.resolve("docs/webtty.md"), "Reasons"))
        .isEqualTo(new TreeSet<>(WebTtyReasons.all().keySet()));
  }

  /** No reason is spelled as a string literal where a frame's or a socket's reason is set. */
  @Test
  void theCodeSetsReasonsOnlyFromTheEnum() throws IOException {
    List<String> literal = new ArrayList<>();
    Pattern setReason =
        Pattern.compile(
            "\\.setReason\\(\\s*\"|\\.close\\(\\s*\\(short\\)\\s*\\d+\\s*,\\s*\"|\\.close\\(\\s*\\d+\\s*,\\s*\"");
    for (Path dir : EMITTERS) {
      for (Path f : javaFiles(dir)) {
        String src = Files.readString(f, StandardCharsets.UTF_8);
        Matcher m = setReason.matcher(src);
        while (m.find()) {
          literal.add(
              ROOT.relativize(f)
                  + ": "
                  + src.substring(m.start(), Math.min(src.length(), m.end() + 30))
                      .lines()
                      .findFirst()
                      .orElse(""));
        }
      }
    }
    assertThat(literal).isEmpty();
  }

  /**
   * The daemon's refusal codes (the proof checks of TtyServer and ProofCheck, the authorizers,
   * DeviceTrust's refusals) each name a row: {@code proof_refused_<code>} at open and, for the
   * authorizers' re-check, {@code client_refused_<code>} (except trust_unreadable, which keeps live
   * sessions).
   */
  @Test
  void everyRefusalCodeOfTheDaemonHasItsRow() throws IOException {
    Path tty = ROOT.resolve("clients/daemon/src/main/java/dev/umbra/daemon/tty");
    Set<String> proofCodes = new TreeSet<>();
    // the proof's checks live in ProofCheck; TtyServer keeps its own few
    for (String file : List.of("TtyServer.java", "ProofCheck.java")) {
      proofCodes.addAll(literalCodes(tty.resolve(file), "return \"([a-z_]+)\";"));
      proofCodes.addAll(literalCodes(tty.resolve(file), "\\? \"([a-z_]+)\""));
      proofCodes.addAll(literalCodes(tty.resolve(file), ": \"([a-z_]+)\"\\)"));
    }
    Set<String> authorizerCodes =
        new TreeSet<>(literalCodes(tty.resolve("ClientAuthorizer.java"), "\"([a-z_]+)\""));
    authorizerCodes.addAll(
        literalCodes(tty.resolve("DeviceCredentialAuthorizer.java"), "return \"([a-z_]+)\";"));
    authorizerCodes.addAll(
        literalCodes(
            ROOT.resolve("clients/core/src/main/java/dev/umbra/client/trust/DeviceTrust.java"),
            "[A-Z_]+\\(\"([a-z_]+)\"\\)"));
    assertThat(proofCodes)
        .contains("wrong_context", "no_grant", "unknown_suite", "bad_signature", "malformed");
    assertThat(authorizerCodes).contains("unauthorized_key", "device_revoked", "trust_unreadable");
    List<String> missing = new ArrayList<>();
    for (String c : proofCodes) {
      if (WebTtyReasons.parse("proof_refused_" + c).isEmpty()) {
        missing.add("proof_refused_" + c);
      }
    }
    for (String c : authorizerCodes) {
      if (WebTtyReasons.parse("proof_refused_" + c).isEmpty()) {
        missing.add("proof_refused_" + c);
      }
      if (!c.equals("trust_unreadable") && WebTtyReasons.parse("client_refused_" + c).isEmpty()) {
        missing.add("client_refused_" + c);
      }
    }
    assertThat(missing).isEmpty();
  }

  private static Set<String> literalCodes(Path file, String regex) throws IOException {
    Set<String> out = new TreeSet<>();
    Matcher m = Pattern.compile(regex).matcher(Files.readString(file, StandardCharsets.UTF_8));
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  private static List<Path> javaFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
    }
  }
}
