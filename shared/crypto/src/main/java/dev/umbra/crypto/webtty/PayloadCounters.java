package dev.umbra.crypto.webtty;

import dev.umbra.crypto.InvalidStateException;
import java.util.HashMap;
import java.util.Map;

/**
 * The receiving side's order check (docs/webtty.md "Receiver rules"): the next expected counter per
 * (payload key, sender). Call {@link #observe} only after the payload's tag verified (the counter
 * is authenticated by the AAD, never trusted before). The verdict:
 *
 * <ul>
 *   <li>{@link Kind#IN_ORDER}: the expected counter; accepted.
 *   <li>{@link Kind#REPEAT}: a counter below the expected one (a replay or a step back); the
 *       payload must be refused and is not counted as seen.
 *   <li>{@link Kind#GAP}: a counter above the expected one: {@code missing} payloads were dropped
 *       (or are coming late, reordered). It becomes the new position; the receiver decides whether
 *       to go on (and report) or to fail.
 * </ul>
 *
 * A pair is new either from 0 ({@link #fromZero}) or from the first counter seen ({@link
 * #fromFirstSeen}: for a joiner, who cannot know how far a live session already is). At most
 * {@value #MAX_STREAMS} pairs are tracked; more are refused. Not thread-safe.
 */
public final class PayloadCounters {
  /** Bound on tracked (key, sender) pairs: one per input key epoch and sender in practice. */
  public static final int MAX_STREAMS = 4096;

  public enum Kind {
    IN_ORDER,
    REPEAT,
    GAP
  }

  /** The verdict of one payload; {@code missing} counts skipped counters on a GAP, else 0. */
  public record Verdict(Kind kind, long expected, long counter, long missing) {
    public boolean accepted() {
      return kind != Kind.REPEAT;
    }
  }

  private record Pair(PayloadKeyId key, KeyId sender) {}

  private final boolean fromFirstSeen;
  private final Map<Pair, Long> next = new HashMap<>();

  private PayloadCounters(boolean fromFirstSeen) {
    this.fromFirstSeen = fromFirstSeen;
  }

  /** Every (key, sender) must start at counter 0 (the opener, the daemon, an export). */
  public static PayloadCounters fromZero() {
    return new PayloadCounters(false);
  }

  /** A (key, sender) starts wherever its first payload is (a viewer joining a live session). */
  public static PayloadCounters fromFirstSeen() {
    return new PayloadCounters(true);
  }

  /** Judges {@code p}'s counter and, unless it is a repeat, moves the position past it. */
  public Verdict observe(SealedPayload p) {
    return observe(p.payloadKeyId(), p.senderKeyId(), p.counter());
  }

  public Verdict observe(PayloadKeyId key, KeyId sender, long counter) {
    Pair pair = new Pair(key, sender);
    Long expected = next.get(pair);
    if (expected == null) {
      if (next.size() >= MAX_STREAMS) {
        throw new InvalidStateException("too many WebTTY payload streams");
      }
      expected = fromFirstSeen ? counter : 0L;
    }
    if (counter < expected) {
      return new Verdict(Kind.REPEAT, expected, counter, 0);
    }
    next.put(pair, counter + 1);
    return counter == expected
        ? new Verdict(Kind.IN_ORDER, expected, counter, 0)
        : new Verdict(Kind.GAP, expected, counter, counter - expected);
  }

  /**
   * The counter expected next from {@code sender} under {@code key} (0, or -1 when unknown and from
   * first seen).
   */
  public long expected(PayloadKeyId key, KeyId sender) {
    Long e = next.get(new Pair(key, sender));
    return e != null ? e : fromFirstSeen ? -1 : 0;
  }
}
