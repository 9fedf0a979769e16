package dev.umbra.controlplane.messaging;

import dev.umbra.controlplane.errors.Refusal;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Prekey rules (docs/messaging.md, "Prekeys"): a party replaces its own bundle and adds one-time
 * prekeys up to {@link #MAX_ONE_TIME_TOTAL}; a party fetches the bundle of an active principal of
 * the other kind (a member's device fetches an agent's, an agent a device's), consuming one
 * one-time prekey when any is left — at most {@link #TAKES_PER_HOUR} of one principal's per fetcher
 * and hour: past that the bundle comes without one (X3DH's fallback), so nobody can use up another
 * principal's one-time prekeys by fetching in a loop.
 */
final class PrekeyService {
  static final int MAX_ONE_TIME_PER_UPLOAD = 100;
  static final int MAX_ONE_TIME_TOTAL = 500;

  /** One-time prekeys of one principal a fetcher may take per {@link #TAKE_WINDOW}. */
  static final int TAKES_PER_HOUR = 5;

  static final Duration TAKE_WINDOW = Duration.ofHours(1);

  private final PrekeyStore store;
  private final Clock clock;

  PrekeyService(PrekeyStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
  }

  /** What fetching a bundle returns: the bundle and one one-time prekey, if any was left. */
  record Fetched(PrekeyStore.Bundle bundle, Optional<PrekeyStore.OneTime> oneTime) {}

  Future<Integer> upload(
      SqlConnection conn,
      Party p,
      byte[] identityKey,
      byte[] signedPrekey,
      long signedPrekeyId,
      OffsetDateTime expiresAt,
      List<PrekeyStore.OneTime> oneTime) {
    OffsetDateTime now = now();
    if (!expiresAt.isAfter(now)) {
      return Future.failedFuture(
          Refusal.invalid("signed_prekey_expires_at", "signed_prekey_expires_at is in the past"));
    }
    PrekeyStore.Bundle b =
        new PrekeyStore.Bundle(
            p.id(), p.kind().wire(), identityKey, signedPrekey, signedPrekeyId, expiresAt);
    return store
        .upsert(conn, p.workspaceId(), b, now)
        .compose(v -> store.addOneTime(conn, p.workspaceId(), p.id(), oneTime))
        .compose(
            n ->
                n > MAX_ONE_TIME_TOTAL
                    ? Future.failedFuture(
                        Refusal.conflict(
                            Refusal.Conflict.Reason.TOO_MANY_PREKEYS,
                            "at most " + MAX_ONE_TIME_TOTAL + " one-time prekeys may be stored",
                            "one_time_prekeys"))
                    : Future.succeededFuture(n));
  }

  Future<Fetched> fetch(SqlConnection conn, Party p, UUID principal) {
    Party.Kind want = p.kind().peer();
    return Parties.active(conn, want, principal)
        .compose(
            ok -> {
              if (!ok) {
                return Future.failedFuture(Refusal.notFound("prekey bundle"));
              }
              return store.bundle(conn, principal);
            })
        .compose(
            b -> {
              if (b.isEmpty() || !b.get().principalKind().equals(want.wire())) {
                return Future.failedFuture(Refusal.notFound("prekey bundle"));
              }
              OffsetDateTime now = now();
              return store
                  .takesSince(conn, principal, p.id(), now.minus(TAKE_WINDOW))
                  .compose(
                      n ->
                          n >= TAKES_PER_HOUR
                              ? Future.succeededFuture(Optional.<PrekeyStore.OneTime>empty())
                              : store.take(conn, p.workspaceId(), principal, p.id(), now))
                  .map(o -> new Fetched(b.get(), o));
            });
  }

  Future<Status> status(SqlConnection conn, Party p) {
    return store
        .bundle(conn, p.id())
        .compose(b -> store.count(conn, p.id()).map(n -> new Status(b, n)));
  }

  record Status(Optional<PrekeyStore.Bundle> bundle, int oneTime) {}

  private OffsetDateTime now() {
    return OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
  }
}
