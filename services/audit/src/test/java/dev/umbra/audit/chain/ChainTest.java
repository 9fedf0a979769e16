package dev.umbra.audit.chain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.proto.audit.Actor;
import dev.umbra.proto.audit.ActorKind;
import dev.umbra.proto.audit.AuditEvent;
import dev.umbra.proto.audit.Outcome;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class ChainTest {
  static final HexFormat HEX = HexFormat.of();

  /** The example of docs/audit.md; any implementation must produce these bytes and hashes. */
  static AuditEvent example() {
    return AuditEvent.newBuilder()
        .setId("01JDQ8Z6X3K9V2M4N5P6Q7R8ST")
        .setWorkspaceId("0b5e2f7c-3a41-4d8e-9c6b-1f2a3b4c5d6e")
        .setActor(Actor.newBuilder().setKind(ActorKind.ACTOR_KIND_MEMBER).setId("acct-42"))
        .setAction("machine.paired")
        .setTarget("machine:7d1e")
        .setOutcome(Outcome.OUTCOME_SUCCESS)
        .setTimeUnixMs(1764158400123L)
        .setSourceIp("203.0.113.7")
        .setRequestId("req-1")
        .setService("pairing")
        .putMetadata("platform", "linux")
        .putMetadata("b", "é")
        .build();
  }

  @Test
  void canonicalEncodingIsFixedLengthPrefixedFields() {
    byte[] c = CanonicalEvent.encode(example());
    String hex = HEX.formatHex(c);
    // domain, then id: 4-byte big-endian length + UTF-8
    assertThat(hex)
        .startsWith("00000014" + HEX.formatHex("umbra-audit-event/v1".getBytes()) + "0000001a");
    // metadata: count 2, then "b" before "platform" (sorted by UTF-8 bytes), values as UTF-8
    assertThat(hex)
        .endsWith(
            "00000002"
                + "00000001"
                + "62"
                + "00000002"
                + "c3a9"
                + "00000008"
                + HEX.formatHex("platform".getBytes())
                + "00000005"
                + HEX.formatHex("linux".getBytes()));
  }

  @Test
  void exampleHashesMatchTheDocumentedValues() {
    byte[] h1 = Chain.link(Chain.genesis(), 1, example());
    byte[] h2 =
        Chain.link(h1, 2, example().toBuilder().setId("01JDQ8Z6X3K9V2M4N5P6Q7R8SV").build());
    assertThat(HEX.formatHex(CanonicalEvent.encode(example()))).isEqualTo(ChainVectors.CANONICAL);
    assertThat(HEX.formatHex(h1)).isEqualTo(ChainVectors.HASH_1);
    assertThat(HEX.formatHex(h2)).isEqualTo(ChainVectors.HASH_2);
  }

  @Test
  void metadataOrderDoesNotChangeTheHashButEveryFieldDoes() {
    AuditEvent a = example();
    AuditEvent reordered =
        a.toBuilder()
            .clearMetadata()
            .putMetadata("platform", "linux")
            .putMetadata("b", "é")
            .build();
    byte[] base = Chain.link(Chain.genesis(), 1, a);
    assertThat(Chain.link(Chain.genesis(), 1, reordered)).isEqualTo(base);
    AuditEvent[] changed = {
      a.toBuilder().setId("01JDQ8Z6X3K9V2M4N5P6Q7R8SW").build(),
      a.toBuilder().setWorkspaceId("0b5e2f7c-3a41-4d8e-9c6b-1f2a3b4c5d6f").build(),
      a.toBuilder()
          .setActor(Actor.newBuilder().setKind(ActorKind.ACTOR_KIND_DEVICE).setId("acct-42"))
          .build(),
      a.toBuilder()
          .setActor(Actor.newBuilder().setKind(ActorKind.ACTOR_KIND_MEMBER).setId("acct-43"))
          .build(),
      a.toBuilder().setAction("machine.unpaired").build(),
      a.toBuilder().setTarget("machine:7d1f").build(),
      a.toBuilder().setOutcome(Outcome.OUTCOME_DENIED).build(),
      a.toBuilder().setTimeUnixMs(1764158400124L).build(),
      a.toBuilder().setSourceIp("203.0.113.8").build(),
      a.toBuilder().setRequestId("req-2").build(),
      a.toBuilder().setService("relay").build(),
      a.toBuilder().putMetadata("platform", "linux ").build(),
      // moving bytes between adjacent fields must not collide (length prefixes)
      a.toBuilder().setTarget("machine:7d1e2").setSourceIp("03.0.113.7").build(),
    };
    for (AuditEvent e : changed) {
      assertThat(Chain.link(Chain.genesis(), 1, e)).as(e.toString()).isNotEqualTo(base);
    }
    assertThat(Chain.link(Chain.genesis(), 2, a)).isNotEqualTo(base);
  }
}
