package dev.umbra.kit.revocation;

import dev.umbra.kit.bus.Bus;
import dev.umbra.proto.bus.Revocation;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes a revocation: appended to the durable log first (so an instance that starts or
 * reconnects later still learns it), then on the channel for the instant fan-out. The control plane
 * calls it only after the revoking transaction committed.
 *
 * <p>A failed append is retried with backoff for up to {@link #RETRY_FOR} (longer than a Sentinel
 * or Cluster failover takes: the master holding the log may be dead or just demoted), so a
 * revocation made while Redis fails over still reaches every instance, through the log they poll.
 * An entry appended twice (an append that timed out but was written) is applied once.
 */
public final class RevocationPublisher {
  private static final Logger log = LoggerFactory.getLogger(RevocationPublisher.class);

  /** How long a failed append is retried before the revocation is reported lost. */
  public static final Duration RETRY_FOR = Duration.ofSeconds(60);

  private static final long FIRST_BACKOFF_MS = 100;
  private static final long MAX_BACKOFF_MS = 2_000;

  private final Vertx vertx;
  private final Bus bus;

  public RevocationPublisher(Vertx vertx, Bus bus) {
    this.vertx = vertx;
    this.bus = bus;
  }

  /**
   * Completes once the log holds the revocation and the channel publish was attempted; fails when
   * the log did not take it within {@link #RETRY_FOR}.
   */
  public Future<Void> publish(Revocation r) {
    Buffer body = Buffer.buffer(r.toByteArray());
    Promise<Void> logged = Promise.promise();
    append(body, System.nanoTime() + RETRY_FOR.toNanos(), FIRST_BACKOFF_MS, logged);
    return logged
        .future()
        .onFailure(
            e ->
                log.atError()
                    .addKeyValue("kind", r.getKind().name())
                    .addKeyValue("workspace", r.getWorkspaceId())
                    .log("revocation not written to the log; publishing it anyway"))
        .transform(ar -> bus.publish(RevocationChannel.CHANNEL, body).map(ar.succeeded()))
        .<Void>compose(
            inLog ->
                inLog ? Future.succeededFuture() : Future.failedFuture(logged.future().cause()))
        .onFailure(
            e ->
                log.atError()
                    .addKeyValue("kind", r.getKind().name())
                    .addKeyValue("workspace", r.getWorkspaceId())
                    .log("revocation not published"));
  }

  private void append(Buffer body, long deadline, long backoffMs, Promise<Void> done) {
    bus.append(RevocationChannel.LOG, body, RevocationChannel.LOG_MAX_ENTRIES)
        .onSuccess(id -> done.complete())
        .onFailure(
            e -> {
              if (System.nanoTime() - deadline >= 0) {
                done.fail(e);
                return;
              }
              log.atWarn()
                  .addKeyValue("error", e.getClass().getSimpleName())
                  .addKeyValue("retry_ms", backoffMs)
                  .log("revocation log append failed; retrying");
              vertx.setTimer(
                  backoffMs,
                  t -> append(body, deadline, Math.min(MAX_BACKOFF_MS, backoffMs * 2), done));
            });
  }
}
