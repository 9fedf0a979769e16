package dev.umbra.audit.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.kit.audit.AuditEventRules;
import dev.umbra.kit.bus.StreamEntry;
import dev.umbra.proto.SeedMutations;
import dev.umbra.proto.audit.AuditEvent;
import io.vertx.core.buffer.Buffer;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harness of the audit ingest's decoder (every stream entry any service, or anything able to
 * write to the stream, appends). Contract: it never throws; an entry is either valid (an event the
 * rules admit) or rejected with a known reason, its true length, and at most {@link
 * EntryDecoder#MAX_KEPT_BYTES} kept for the dead letters, with metadata values blanked when the
 * reason is a forbidden or bad metadata key (a secret is never kept).
 */
class EntryDecoderFuzzTest {
  private static final Set<String> STRUCTURAL = Set.of("empty", "oversized", "malformed");

  /** Every build: the seeds and 3,000 deterministic mutants of them (see {@link SeedMutations}). */
  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    assertThat(
            SeedMutations.run(
                getClass(),
                "entriesAreValidOrRejectedWithABoundedRedactedCopy",
                3_000,
                this::entriesAreValidOrRejectedWithABoundedRedactedCopy))
        .isGreaterThan(3_000);
  }

  @FuzzTest(maxDuration = "10s")
  void entriesAreValidOrRejectedWithABoundedRedactedCopy(byte[] input) throws Exception {
    EntryDecoder.Decoded d = EntryDecoder.decode(new StreamEntry("1-0", Buffer.buffer(input), 1));
    assertThat(d.entryId()).isEqualTo("1-0");
    switch (d) {
      case EntryDecoder.Valid v -> {
        assertThat(AuditEventRules.problem(v.event())).isEmpty();
        assertThat(input.length).isLessThanOrEqualTo(AuditEventRules.MAX_EVENT_BYTES);
      }
      case EntryDecoder.Rejected r -> {
        assertThat(r.rawLength()).isEqualTo(input.length);
        assertThat(r.kept().length).isLessThanOrEqualTo(EntryDecoder.MAX_KEPT_BYTES);
        assertThat(r.reason()).isNotBlank();
        if (!STRUCTURAL.contains(r.reason())) {
          AuditEvent event = AuditEvent.parseFrom(input);
          assertThat(AuditEventRules.problem(event)).contains(r.reason());
          if (r.reason().equals("forbidden_metadata_key") || r.reason().equals("bad_metadata")) {
            assertThat(AuditEvent.parseFrom(r.kept()).getMetadataMap().values())
                .allMatch("<dropped>"::equals);
          }
        }
      }
    }
  }
}
