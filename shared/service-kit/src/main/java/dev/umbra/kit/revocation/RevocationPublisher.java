package dev.umbra.kit.revocation;

import dev.umbra.kit.bus.Bus;
import dev.umbra.proto.bus.Revocation;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes a revocation: appended to the durable log first (so an instance that starts or
 * reconnects later still learns it), then on the channel for the instant fan-out. The control plane
 * calls it only after the revoking transaction committed.
 */
public final class RevocationPublisher {
  private static final Logger log = LoggerFactory.getLogger(RevocationPublisher.class);
  private final Bus bus;

  public RevocationPublisher(Bus bus) {
    this.bus = bus;
  }

  public Future<Void> publish(Revocation r) {
    Buffer body = Buffer.buffer(r.toByteArray());
    return bus.append(RevocationChannel.LOG, body, RevocationChannel.LOG_MAX_ENTRIES)
        .transform(
            ar -> {
              if (ar.failed()) {
                log.atError()
                    .addKeyValue("kind", r.getKind().name())
                    .addKeyValue("workspace", r.getWorkspaceId())
                    .log("revocation not written to the log; publishing it anyway");
              }
              return bus.publish(RevocationChannel.CHANNEL, body);
            })
        .<Void>mapEmpty()
        .onFailure(
            e ->
                log.atError()
                    .addKeyValue("kind", r.getKind().name())
                    .addKeyValue("workspace", r.getWorkspaceId())
                    .log("revocation not published"));
  }
}
