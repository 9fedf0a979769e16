package dev.umbra.relay.archfixture;

import dev.umbra.crypto.aead.AeadKey;

/** Breaks the keyless-service rule on purpose: ModuleBoundariesTest shows the rule reports it. */
public final class RelayHoldingAKey {
  private AeadKey key;

  public AeadKey key() {
    return key;
  }
}
