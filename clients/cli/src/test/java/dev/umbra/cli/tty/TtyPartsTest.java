package dev.umbra.cli.tty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.cli.CliException;
import dev.umbra.client.tty.RecordingDecryptor.Chunk;
import dev.umbra.proto.webtty.RecordedKind;
import dev.umbra.proto.webtty.TtyStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The CLI's WebTTY pieces that need no services: scrollback rendering and the control socket. */
class TtyPartsTest {

  static Chunk out(String s) {
    return new Chunk(
        0,
        0,
        RecordedKind.RECORDED_KIND_DATA,
        TtyStream.TTY_STREAM_STDOUT,
        s.getBytes(StandardCharsets.UTF_8),
        0,
        0,
        0);
  }

  @Test
  void alternateScreenOutputLeavesNoTraceAndEscapesAreApplied() {
    String text =
        RecordingsCommand.render(
            List.of(
                out("$ ls\r\nfile-a  \u001b[1;34mdir-b\u001b[0m\r\n$ vim\r\n"),
                out("\u001b[?1049h\u001b[H\u001b[2Jsecret buffer\r\n~\r\n~"),
                out("\u001b[?1049l$ echo done\r\ndone\r\n$ ")),
            80,
            200,
            false,
            false);
    assertThat(text)
        .contains("file-a  dir-b")
        .contains("$ vim")
        .contains("done")
        .doesNotContain("secret buffer")
        .doesNotContain("\u001b");
  }

  @Test
  void utf8SplitAcrossChunksIsJoinedAndTypedInputIsListedVisibly() {
    byte[] e = "caf\u00e9\r\n".getBytes(StandardCharsets.UTF_8);
    Chunk a =
        new Chunk(
            1,
            0,
            RecordedKind.RECORDED_KIND_DATA,
            TtyStream.TTY_STREAM_STDOUT,
            Arrays.copyOf(e, 4),
            0,
            0,
            0);
    Chunk b =
        new Chunk(
            2,
            0,
            RecordedKind.RECORDED_KIND_DATA,
            TtyStream.TTY_STREAM_STDOUT,
            Arrays.copyOfRange(e, 4, e.length),
            0,
            0,
            0);
    Chunk typed =
        new Chunk(
            3,
            0,
            RecordedKind.RECORDED_KIND_DATA,
            TtyStream.TTY_STREAM_STDIN,
            "ls\u0003\r".getBytes(StandardCharsets.UTF_8),
            0,
            0,
            0);
    String text = RecordingsCommand.render(List.of(a, b, typed), 40, 50, false, true);
    assertThat(text).contains("caf\u00e9").contains("--- input ---").contains("ls^C\\r");
  }

  @Test
  void theExportMarksAGapOrARepeatAtItsSpotInsteadOfRenderingIt() {
    Chunk gap =
        new Chunk(
            5,
            0,
            RecordedKind.RECORDED_KIND_UNSPECIFIED,
            TtyStream.TTY_STREAM_UNSPECIFIED,
            new byte[0],
            0,
            0,
            0,
            "missing: 2 output frame(s) before event 5 (counter 3 to 4)");
    for (boolean raw : new boolean[] {false, true}) {
      String text =
          RecordingsCommand.render(
              List.of(out("before\r\n"), gap, out("after\r\n")), 80, 50, raw, false);
      assertThat(text)
          .as("raw " + raw)
          .containsSubsequence(
              "before", "[umbra] missing: 2 output frame(s) before event 5", "after");
    }
  }

  @Test
  void theControlSocketAnswersOneLineAndIsPrivate() throws Exception {
    Path dir = Files.createTempDirectory("tty-control");
    List<String> got = new CopyOnWriteArrayList<>();
    try (ControlSocket s =
        ControlSocket.listen(
            dir,
            "01TESTSESSION",
            line -> {
              got.add(line);
              return line.startsWith("give") ? "ok" : "error: unknown";
            })) {
      assertThat(
              PosixFilePermissions.toString(Files.getPosixFilePermissions(ControlSocket.dir(dir))))
          .isEqualTo("rwx------");
      assertThat(ControlSocket.send(dir, "01TESTSESSION", "give 01PARTICIPANT")).isEqualTo("ok");
      assertThat(ControlSocket.send(dir, null, "bogus")).isEqualTo("error: unknown");
      assertThat(got).containsExactly("give 01PARTICIPANT", "bogus");
    }
    assertThatThrownBy(() -> ControlSocket.send(dir, null, "who")).isInstanceOf(CliException.class);
  }
}
