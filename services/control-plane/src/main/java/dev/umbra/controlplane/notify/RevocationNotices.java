package dev.umbra.controlplane.notify;

import dev.umbra.kit.bus.Bus;
import dev.umbra.kit.revocation.RevocationPublisher;
import dev.umbra.kit.revocation.Revoked;
import dev.umbra.proto.bus.RevokedKind;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.util.UUID;

/** Publishes revocations to the services (log, then channel: dev.umbra.kit.revocation). */
public final class RevocationNotices {
  private final RevocationPublisher publisher;
  private final Clock clock;

  public RevocationNotices(Vertx vertx, Bus bus, Clock clock) {
    this.publisher = new RevocationPublisher(vertx, bus);
    this.clock = clock;
  }

  /**
   * Call it only once the revoking transaction committed, with the time taken then, so every
   * session token issued before the commit is older than the revocation.
   */
  public void revoked(RevokedKind kind, UUID workspaceId, String subjectId, UUID accountId) {
    publisher.publish(
        Revoked.message(
            kind,
            workspaceId,
            subjectId,
            accountId == null ? null : accountId.toString(),
            clock.instant()));
  }
}
