package dev.umbra.webtty.replay;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import dev.umbra.proto.SeedMutations;
import dev.umbra.proto.webtty.RecordedEvent;
import dev.umbra.proto.webtty.RecordingHeader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the stored recording the engine serves: the header it keeps (bytes a client sent)
 * is parsed when a recording is replayed, and the recording file is a delimited header followed by
 * delimited events. Contract: a stored header is refused with {@link
 * InvalidProtocolBufferException} only; a recording file reads to messages (or stops with an {@link
 * IOException}) that {@link ReplayRoutes#delimited} writes back to a file reading to the same
 * messages. (A length prefix of gigabytes in a short file must fail, not allocate: the fuzzing
 * JVM's heap is small enough that such an allocation is a finding.)
 */
class RecordingFileFuzzTest {
  /** Every build: the seeds and 3,000 deterministic mutants of them (see {@link SeedMutations}). */
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "storedRecordingsReadBackToTheSameMessagesOrAreRefused",
                3_000,
                this::storedRecordingsReadBackToTheSameMessagesOrAreRefused))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void storedRecordingsReadBackToTheSameMessagesOrAreRefused(byte[] input) throws Exception {
    try {
      RecordingHeader h = RecordingHeader.parseFrom(input);
      assertThat(RecordingHeader.parseFrom(h.toByteArray())).isEqualTo(h);
    } catch (InvalidProtocolBufferException e) {
      // refused
    }
    List<MessageLite> read = new ArrayList<>();
    try {
      ByteArrayInputStream in = new ByteArrayInputStream(input);
      RecordingHeader header = RecordingHeader.parseDelimitedFrom(in);
      if (header == null) {
        return;
      }
      read.add(header);
      RecordedEvent e;
      while ((e = RecordedEvent.parseDelimitedFrom(in)) != null) {
        read.add(e);
      }
    } catch (IOException e) {
      return;
    }
    byte[] written = ReplayRoutes.delimited(read).getBytes();
    ByteArrayInputStream again = new ByteArrayInputStream(written);
    List<MessageLite> reread = new ArrayList<>();
    reread.add(RecordingHeader.parseDelimitedFrom(again));
    RecordedEvent e;
    while ((e = RecordedEvent.parseDelimitedFrom(again)) != null) {
      reread.add(e);
    }
    assertThat(reread).isEqualTo(read);
  }
}
