package dev.umbra.controlplane.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.controlplane.notify.AuditOutbox;
import dev.umbra.kit.db.Database;
import org.junit.jupiter.api.Test;

/**
 * The statements of every send are kept prepared on their connection: one that is not (a {@code
 * SELECT *}, {@code Database.keptPrepared}) is parsed again before each execution, a round trip
 * more on the owner → agent path (docs/benchmarks.md, "Messaging").
 */
class SendStatementsTest {
  @Test
  void theSendStatementIsKeptPrepared() {
    assertThat(Database.keptPrepared(MessageStore.SEND)).isTrue();
  }

  @Test
  void theAckStatementIsKeptPrepared() {
    assertThat(Database.keptPrepared(MessageStore.ACK)).isTrue();
  }

  @Test
  void theAuditRowStatementIsKeptPrepared() {
    assertThat(Database.keptPrepared(AuditOutbox.INSERT)).isTrue();
  }

  @Test
  void aStatementOfEveryColumnIsNot() {
    // the measure itself: the claim as it was before 2026-12-05 18:55 UTC
    assertThat(Database.keptPrepared("WITH u AS (SELECT * FROM unnest($1::uuid[])) SELECT 1"))
        .isFalse();
  }
}
