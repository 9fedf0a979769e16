package dev.umbra.crypto.messaging;

import dev.umbra.crypto.keys.X25519PublicKey;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** A {@link PrekeySecrets} in memory (tests, or a caller that persists the keys itself). */
public final class InMemoryPrekeySecrets implements PrekeySecrets {
  private final Map<Long, SignedPrekey> signed = new LinkedHashMap<>();
  private final Map<Long, OneTimePrekey> oneTime = new LinkedHashMap<>();
  private final Map<Long, Set<X25519PublicKey>> seen = new HashMap<>();

  public synchronized InMemoryPrekeySecrets addSignedPrekey(SignedPrekey spk) {
    signed.put(spk.id(), spk);
    return this;
  }

  public synchronized InMemoryPrekeySecrets addOneTimePrekey(OneTimePrekey opk) {
    oneTime.put(opk.id(), opk);
    return this;
  }

  public synchronized void removeSignedPrekey(long id) {
    signed.remove(id);
    seen.remove(id);
  }

  public synchronized int oneTimePrekeyCount() {
    return oneTime.size();
  }

  @Override
  public synchronized Optional<SignedPrekey> signedPrekey(long id) {
    return Optional.ofNullable(signed.get(id));
  }

  @Override
  public synchronized Optional<OneTimePrekey> oneTimePrekey(long id) {
    return Optional.ofNullable(oneTime.get(id));
  }

  @Override
  public synchronized void consumeOneTimePrekey(long id) {
    oneTime.remove(id);
  }

  @Override
  public synchronized boolean recordEphemeral(long signedPrekeyId, X25519PublicKey ephemeral) {
    return seen.computeIfAbsent(signedPrekeyId, k -> new HashSet<>()).add(ephemeral);
  }
}
