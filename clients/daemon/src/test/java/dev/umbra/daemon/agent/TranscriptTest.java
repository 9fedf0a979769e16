package dev.umbra.daemon.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.client.agent.AgentFrame;
import dev.umbra.client.agent.AgentFrames;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session's transcript on the machine (docs/agents.md, "Transcripts"): numbered frames in 0600
 * segment files, paged by number, rotated at a bound with the oldest segment dropped.
 */
class TranscriptTest {
  @TempDir Path dir;

  private static AgentFrame output(long seq, String text) {
    return AgentFrames.of(AgentFrames.Type.OUTPUT, new JsonObject().put("text", text))
        .numbered(seq);
  }

  @Test
  void framesArePagedByNumberAndAPageSaysWhereTheNextStarts() throws Exception {
    Transcript t = new Transcript(dir);
    for (int i = 1; i <= 7; i++) {
      t.append(output(i, "line " + i));
    }
    Transcript.Page first = t.page(1, 3);
    assertThat(first.frames()).extracting(AgentFrame::seq).containsExactly(1L, 2L, 3L);
    assertThat(first.frames().get(1).text("text")).isEqualTo("line 2");
    assertThat(first.nextSeq()).isEqualTo(4);
    assertThat(first.more()).isTrue();
    Transcript.Page last = t.page(first.nextSeq() + 3, 3);
    assertThat(last.frames()).extracting(AgentFrame::seq).containsExactly(7L);
    assertThat(last.more()).isFalse();
    assertThat(last.nextSeq()).isEqualTo(8);
    assertThat(t.page(8, 3).frames()).isEmpty();
    assertThat(t.page(1, 0).frames()).as("0: the daemon's maximum").hasSize(7);
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f)))
            .isEqualTo("rw-------");
      }
    }
  }

  @Test
  void segmentsRotateAndTheOldestGoesPastTheBound() throws Exception {
    Transcript t = new Transcript(dir);
    String text = "y".repeat(40_000);
    long frames = Transcript.MAX_BYTES / 40_000 + 200;
    for (long i = 1; i <= frames; i++) {
      t.append(output(i, text));
    }
    List<Path> segments;
    try (Stream<Path> files = Files.list(dir)) {
      segments = files.sorted().toList();
    }
    assertThat(segments.size()).isGreaterThan(2);
    long total = 0;
    for (Path s : segments) {
      assertThat(Files.size(s)).isLessThanOrEqualTo(Transcript.SEGMENT_BYTES);
      total += Files.size(s);
    }
    assertThat(total).isLessThanOrEqualTo(Transcript.MAX_BYTES);
    Transcript.Page p = t.page(1, 5);
    assertThat(p.frames().get(0).seq())
        .as("the transcript now starts later; a page from 1 starts at the oldest kept")
        .isGreaterThan(1);
    assertThat(t.page(frames, 5).frames()).extracting(AgentFrame::seq).containsExactly(frames);
  }

  @Test
  void aTornLastLineIsSkipped() throws Exception {
    Transcript t = new Transcript(dir);
    t.append(output(1, "kept"));
    try (Stream<Path> files = Files.list(dir)) {
      Path seg = files.findFirst().orElseThrow();
      Files.writeString(
          seg, "{\"type\":\"output\",\"seq\":2,\"te", java.nio.file.StandardOpenOption.APPEND);
    }
    assertThat(t.page(1, 10).frames()).extracting(AgentFrame::seq).containsExactly(1L);
  }
}
