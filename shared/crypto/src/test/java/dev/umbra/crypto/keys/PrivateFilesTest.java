package dev.umbra.crypto.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Private files: 0600 from the start, written whole, never overwritten by {@code createNew}. */
class PrivateFilesTest {
  @TempDir Path dir;

  private String mode(Path f) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(f));
  }

  /** Nothing but the file itself is left behind (no temporary file). */
  private void onlyFileIn(Path f) throws Exception {
    try (var s = Files.list(dir)) {
      assertThat(s.toList()).containsExactly(f);
    }
  }

  @Test
  void replaceWritesAWhole0600FileAndReplacesWhatItHeld() throws Exception {
    Path f = dir.resolve("credentials.json");
    PrivateFiles.replace(f, "first");
    PrivateFiles.replace(f, "second");
    assertThat(Files.readString(f)).isEqualTo("second");
    assertThat(mode(f)).isEqualTo("rw-------");
    onlyFileIn(f);
  }

  @Test
  void createNewRefusesAnExistingFileAndLeavesItAsItWas() throws Exception {
    Path f = dir.resolve("pin");
    PrivateFiles.createNew(f, "kept");
    assertThatThrownBy(() -> PrivateFiles.createNew(f, "other"))
        .isInstanceOf(FileAlreadyExistsException.class);
    assertThat(Files.readString(f)).isEqualTo("kept");
    assertThat(mode(f)).isEqualTo("rw-------");
    onlyFileIn(f);
  }

  @Test
  void ofWritersRacingForOneNameExactlyOneWinsAndItsContentIsWhole() throws Exception {
    Path f = dir.resolve("internal-token");
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Boolean>> all = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        String content = ("writer-" + i + "-").repeat(1000);
        Callable<Boolean> write =
            () -> {
              try {
                PrivateFiles.createNew(f, content);
                return true;
              } catch (FileAlreadyExistsException lost) {
                return false;
              }
            };
        all.add(pool.submit(write));
      }
      int won = 0;
      for (Future<Boolean> w : all) {
        won += w.get() ? 1 : 0;
      }
      assertThat(won).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
    String held = Files.readString(f, StandardCharsets.UTF_8);
    assertThat(held)
        .hasSize(("writer-0-").length() * 1000)
        .isEqualTo(held.substring(0, 9).repeat(1000));
    onlyFileIn(f);
  }

  @Test
  void appendCreatesA0600FileThenAddsToIt() throws Exception {
    Path f = dir.resolve("authorized_keys");
    PrivateFiles.append(f, "one\n".getBytes(StandardCharsets.UTF_8));
    PrivateFiles.append(f, "two\n".getBytes(StandardCharsets.UTF_8));
    assertThat(Files.readString(f)).isEqualTo("one\ntwo\n");
    assertThat(mode(f)).isEqualTo("rw-------");
  }
}
