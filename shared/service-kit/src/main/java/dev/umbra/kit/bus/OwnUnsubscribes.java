package dev.umbra.kit.bus;

import java.util.HashMap;
import java.util.Map;

/**
 * The SUNSUBSCRIBEs a bus sent on its current subscriber connection whose reply has not come back
 * yet, by channel. The Redis client hands a pub/sub command's reply to the connection's message
 * handler, not to the command: without this count a reply to our own unsubscribe, arriving after
 * another listener re-registered the channel, reads like a Cluster dropping the subscription.
 */
final class OwnUnsubscribes {
  private long generation;
  private final Map<String, Integer> pending = new HashMap<>();

  /** Counts an unsubscribe of {@code channel} sent on the connection of {@code gen}. */
  synchronized void sent(long gen, String channel) {
    reset(gen);
    pending.merge(channel, 1, Integer::sum);
  }

  /** Whether a sunsubscribe reply of {@code channel} on {@code gen} answers one we sent. */
  synchronized boolean answered(long gen, String channel) {
    reset(gen);
    Integer n = pending.get(channel);
    if (n == null) {
      return false;
    }
    if (n == 1) {
      pending.remove(channel);
    } else {
      pending.put(channel, n - 1);
    }
    return true;
  }

  /** A new connection owes no replies to the commands of the one it replaced. */
  private void reset(long gen) {
    if (gen != generation) {
      generation = gen;
      pending.clear();
    }
  }
}
