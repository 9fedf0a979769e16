package dev.umbra.kit.revocation;

/**
 * Where revocations travel (names from {@link dev.umbra.kit.bus.BusNames}): a pub/sub channel for
 * the instant fan-out and a durable stream, trimmed by age, that a service reads when it starts and
 * polls to catch what pub/sub lost while its Redis connection was down (docs/security.md,
 * "Revocation").
 */
public final class RevocationChannel {
  /** Pub/sub channel of {@code umbra.v1.Revocation} messages. */
  public static final String CHANNEL = dev.umbra.kit.bus.BusNames.REVOCATIONS;

  /** Stream of the same messages, kept at least as long as a session token lives. */
  public static final String LOG = dev.umbra.kit.bus.BusNames.REVOCATIONS_LOG;

  /** Upper bound of entries the stream keeps (entries older than a token's life are ignored). */
  public static final long LOG_MAX_ENTRIES = 100_000;

  private RevocationChannel() {}
}
