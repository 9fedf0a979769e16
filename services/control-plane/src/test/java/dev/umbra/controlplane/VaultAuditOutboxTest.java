package dev.umbra.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.kit.testing.Eventually;
import dev.umbra.proto.audit.AuditEvent;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Who wrote, read or withdrew a vault secret is on record whatever happens to the instance after
 * the commit (docs/audit.md, "Written down before appended"): a read and a write on an instance
 * whose Redis link is cut, which is then stopped, are appended by another instance's sweep, once,
 * with the member who did them; a write that replaced an entry names the entry it kept.
 */
@ExtendWith(VertxExtension.class)
class VaultAuditOutboxTest {
  Harness a;
  Harness.Owner owner;
  final List<AutoCloseable> closing = new ArrayList<>();

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    a = new Harness(vertx, Map.of());
    owner = a.bootstrap("A");
    MessagingFixture.protect(a, owner.token(), owner.workspaceId(), owner.accountId());
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closing.reversed()) {
      c.close();
    }
    a.close();
  }

  String vault() {
    return "/v1/workspaces/" + owner.workspaceId() + "/vault/entries";
  }

  String put(Harness h, String name) {
    Harness.Response r = h.call("POST", vault(), owner.token(), DeviceTrustApiTest.sealed(name));
    assertThat(r.status()).as(r.body().encode()).isEqualTo(200);
    return r.body().getString("id");
  }

  /** Waits until the rows of what was appended are gone (the instance deletes its own). */
  void settled() {
    Eventually.await(
        "the appended events' rows deleted",
        Duration.ofSeconds(20),
        () -> AuditOutboxFixture.rows(a) == 0);
  }

  /** Stops {@code c} (its unappended events gone with it), then sweeps from {@code a}. */
  void dieAndSweep(Harness c) throws Exception {
    c.stopService();
    a.clock.advance(Duration.ofSeconds(11));
    assertThat(MessagingFixture.await(a.service.messaging().sweepAuditOutbox())).isOne();
    assertThat(AuditOutboxFixture.rows(a)).isZero();
  }

  @Test
  void aSecretReadOnAnInstanceThatDiedIsAuditedByAnotherInstancesSweep(Vertx vertx)
      throws Exception {
    String entry = put(a, "db-password");
    settled();
    Harness c = AuditOutboxFixture.cutOffFromRedis(vertx, a, closing);
    Harness.Response read = c.call("GET", vault() + "/" + entry, owner.token(), null);
    assertThat(read.status()).as(read.body().encode()).isEqualTo(200);
    assertThat(AuditOutboxFixture.rows(a)).as("written down with the read").isOne();
    dieAndSweep(c);

    List<AuditEvent> reads = AuditOutboxFixture.events(a, "vault.entry_read", "vault:" + entry);
    assertThat(reads).singleElement();
    assertThat(reads.getFirst().getActor().getId()).isEqualTo(owner.accountId());
    assertThat(reads.getFirst().getWorkspaceId()).isEqualTo(owner.workspaceId());
  }

  @Test
  void aWriteThatReplacedAnEntryIsAuditedUnderTheEntryItKept(Vertx vertx) throws Exception {
    String entry = put(a, "api-key");
    settled();
    Harness c = AuditOutboxFixture.cutOffFromRedis(vertx, a, closing);
    assertThat(put(c, "api-key")).as("the same entry, replaced").isEqualTo(entry);
    dieAndSweep(c);

    assertThat(AuditOutboxFixture.events(a, "vault.entry_written", "vault:" + entry))
        .as("the first write (appended at once) and the replacement (swept)")
        .hasSize(2);
  }

  @Test
  void aRefusedReadWritesNothing(Vertx vertx) throws Exception {
    settled();
    Harness c = AuditOutboxFixture.cutOffFromRedis(vertx, a, closing);
    Harness.Response r =
        c.call("GET", vault() + "/" + java.util.UUID.randomUUID(), owner.token(), null);
    assertThat(r.status()).isEqualTo(404);
    assertThat(AuditOutboxFixture.rows(a)).isZero();
  }
}
