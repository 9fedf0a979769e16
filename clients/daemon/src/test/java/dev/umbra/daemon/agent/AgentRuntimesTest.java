package dev.umbra.daemon.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runtimes a machine's owner configures (docs/agents.md, "Runtimes"): a client names an id, the
 * command line comes from the file. A file others may write, or one that does not parse, yields no
 * runtime at all (fail closed).
 */
class AgentRuntimesTest {
  @TempDir Path home;

  private void write(String json, String mode) throws IOException {
    Path f = home.resolve(AgentRuntimes.FILE);
    Files.writeString(f, json);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
  }

  @Test
  void aConfiguredRuntimeIsFoundByItsIdAndNothingElseIs() throws Exception {
    write(
        "{\"runtimes\":{\"bot\":{\"argv\":[\"/bin/sh\",\"bot.sh\"],\"cwd\":\"/tmp\"},"
            + "\"echo\":{\"argv\":[\"cat\"]}}}",
        "rw-------");
    AgentRuntimes r = new AgentRuntimes(home);
    assertThat(r.find("bot").orElseThrow())
        .isEqualTo(
            new AgentRuntimes.Runtime("bot", java.util.List.of("/bin/sh", "bot.sh"), "/tmp"));
    assertThat(r.find("echo").orElseThrow().cwd()).isEmpty();
    assertThat(r.find("/bin/sh")).as("a command line is not an id").isEmpty();
    assertThat(r.find("other")).isEmpty();
    assertThat(r.ids()).containsExactly("bot", "echo");
  }

  @Test
  void noFileMeansNoRuntimes() throws Exception {
    assertThat(new AgentRuntimes(home).find("bot")).isEmpty();
  }

  @Test
  void aFileGroupOrOthersMayWriteIsRefused() throws Exception {
    write("{\"runtimes\":{\"bot\":{\"argv\":[\"true\"]}}}", "rw-rw-r--");
    assertThatThrownBy(() -> new AgentRuntimes(home).find("bot"))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("chmod 600");
  }

  @Test
  void malformedConfigurationsAreRefusedWhole() throws Exception {
    for (String bad :
        new String[] {
          "not json",
          "{\"runtimes\":[]}",
          "{\"runtimes\":{\"Bad Id\":{\"argv\":[\"true\"]}}}",
          "{\"runtimes\":{\"bot\":{\"argv\":[]}}}",
          "{\"runtimes\":{\"bot\":{\"argv\":[1]}}}",
          "{\"runtimes\":{\"bot\":{\"argv\":[\"true\"],\"cwd\":7}}}",
          "{\"runtimes\":{\"bot\":\"true\"}}"
        }) {
      write(bad, "rw-------");
      assertThatThrownBy(() -> new AgentRuntimes(home).find("bot"))
          .as(bad)
          .isInstanceOf(IOException.class);
    }
  }
}
