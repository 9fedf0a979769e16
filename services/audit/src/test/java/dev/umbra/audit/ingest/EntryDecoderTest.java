package dev.umbra.audit.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.audit.AuditEventRules;
import dev.umbra.kit.bus.StreamEntry;
import dev.umbra.proto.audit.Actor;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.AuditEvent;
import dev.umbra.proto.audit.Outcome;
import io.vertx.core.buffer.Buffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class EntryDecoderTest {

  static AuditEvent.Builder valid() {
    return AuditEvent.newBuilder()
        .setId("01JDQ8Z6X3K9V2M4N5P6Q7R8ST")
        .setWorkspaceId("0b5e2f7c-3a41-4d8e-9c6b-1f2a3b4c5d6e")
        .setActor(Actor.newBuilder().setKind(ActorKind.ACTOR_KIND_MEMBER).setId("acct-42"))
        .setAction("terminal.opened")
        .setTarget("machine:7d1e")
        .setOutcome(Outcome.OUTCOME_SUCCESS)
        .setTimeUnixMs(1764158400123L)
        .setService("webtty-engine");
  }

  static EntryDecoder.Decoded decode(byte[] body) {
    return EntryDecoder.decode(new StreamEntry("1-0", Buffer.buffer(body), 1));
  }

  static String reason(byte[] body) {
    return ((EntryDecoder.Rejected) decode(body)).reason();
  }

  @Test
  void acceptsAWellFormedEvent() {
    assertThat(decode(valid().build().toByteArray())).isInstanceOf(EntryDecoder.Valid.class);
  }

  @Test
  void refusesEmptyTruncatedAndGarbageEntries() {
    byte[] full = valid().build().toByteArray();
    assertThat(reason(new byte[0])).isEqualTo("empty");
    for (int cut = 1; cut < full.length; cut++) {
      EntryDecoder.Decoded d = decode(Arrays.copyOf(full, cut));
      // a cut at a field boundary parses but then misses required fields
      assertThat(d).as("cut at " + cut).isInstanceOf(EntryDecoder.Rejected.class);
    }
    assertThat(reason(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01}))
        .isEqualTo("malformed");
  }

  @Test
  void refusesOversizedEntriesBeforeParsingAndKeepsOnlyAPrefix() {
    byte[] big = new byte[AuditEventRules.MAX_EVENT_BYTES + 1];
    EntryDecoder.Rejected r = (EntryDecoder.Rejected) decode(big);
    assertThat(r.reason()).isEqualTo("oversized");
    byte[] huge = new byte[5 * 1024 * 1024];
    r = (EntryDecoder.Rejected) decode(huge);
    assertThat(r.kept()).hasSize(EntryDecoder.MAX_KEPT_BYTES);
    assertThat(r.rawLength()).isEqualTo(huge.length);
  }

  @Test
  void refusesEventsThatBreakTheRules() {
    assertThat(reason(valid().setAction("machine.hacked").build().toByteArray()))
        .isEqualTo("unknown_action");
    assertThat(reason(valid().setId("not-a-ulid").build().toByteArray())).isEqualTo("bad_id");
    assertThat(
            reason(
                valid()
                    .setWorkspaceId("0B5E2F7C-3A41-4D8E-9C6B-1F2A3B4C5D6E")
                    .build()
                    .toByteArray()))
        .isEqualTo("bad_workspace");
    assertThat(
            reason(
                valid()
                    .setWorkspaceId(AuditEventRules.DEPLOYMENT_WORKSPACE.toString())
                    .build()
                    .toByteArray()))
        .isEqualTo("bad_workspace");
    assertThat(reason(valid().clearActor().build().toByteArray())).isEqualTo("bad_actor");
    assertThat(reason(valid().setOutcome(Outcome.OUTCOME_UNSPECIFIED).build().toByteArray()))
        .isEqualTo("bad_outcome");
    assertThat(reason(valid().setOutcomeValue(77).build().toByteArray())).isEqualTo("bad_outcome");
    assertThat(reason(valid().setTimeUnixMs(0).build().toByteArray())).isEqualTo("bad_time");
    assertThat(reason(valid().setTarget("a\u0000b").build().toByteArray())).isEqualTo("bad_field");
    assertThat(reason(valid().setService("").build().toByteArray())).isEqualTo("bad_service");
  }

  @Test
  void keepsAnEventWithAForbiddenMetadataKeyOnlyWithItsValuesBlanked() throws Exception {
    byte[] body = valid().putMetadata("session_token", "s3cr3t-canary").build().toByteArray();
    EntryDecoder.Rejected r = (EntryDecoder.Rejected) decode(body);
    assertThat(r.reason()).isEqualTo("forbidden_metadata_key");
    assertThat(new String(r.kept(), java.nio.charset.StandardCharsets.ISO_8859_1))
        .doesNotContain("s3cr3t-canary");
    assertThat(AuditEvent.parseFrom(r.kept()).getMetadataMap())
        .containsEntry("session_token", "<dropped>");
  }

  @Test
  void aReplayedEntryDecodesToTheSameEventId() {
    byte[] body = valid().build().toByteArray();
    EntryDecoder.Valid a = (EntryDecoder.Valid) decode(body);
    EntryDecoder.Valid b =
        (EntryDecoder.Valid) EntryDecoder.decode(new StreamEntry("9-0", Buffer.buffer(body), 3));
    assertThat(a.event().getId()).isEqualTo(b.event().getId()); // storage de-duplicates on it
  }
}
