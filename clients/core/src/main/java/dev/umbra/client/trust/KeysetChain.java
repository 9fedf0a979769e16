package dev.umbra.client.trust;

import dev.umbra.client.trust.TrustModel.Keyset;
import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.sign.Signed;
import java.util.List;
import java.util.UUID;

/**
 * The history of a workspace's keyset: version 1 is signed by its own signing key (trust on first
 * use, pinned), every later version by the signing key of the one before it. A verifier that pinned
 * version {@code n} follows the links after {@code n} and refuses any gap, fork, other workspace or
 * bad signature.
 */
public final class KeysetChain {
  private KeysetChain() {}

  /** Checks a full chain from version 1 and returns its last keyset. */
  public static Keyset verifyFromStart(UUID workspaceId, List<Signed> chain) {
    if (chain.isEmpty()) {
      throw new MalformedInputException("the workspace has no keyset");
    }
    Keyset first = Keyset.of(chain.get(0));
    if (first.version() != 1 || !first.workspaceId().equals(workspaceId)) {
      throw new AuthenticationFailedException(
          "the keyset chain does not start at version 1 of this workspace");
    }
    chain.get(0).verify(first.signingKey());
    return follow(first, chain.subList(1, chain.size()));
  }

  /**
   * Follows links after {@code pinned}: entries at or below the pinned version must be byte-equal
   * to what was pinned or are ignored when older; each newer one must be signed by its predecessor.
   */
  public static Keyset verifyFrom(Keyset pinned, Signed pinnedSigned, List<Signed> chain) {
    Keyset current = pinned;
    for (Signed s : chain) {
      Keyset k = Keyset.of(s);
      if (!k.workspaceId().equals(pinned.workspaceId())) {
        throw new AuthenticationFailedException("a keyset of another workspace");
      }
      if (k.version() < pinned.version()) {
        continue;
      }
      if (k.version() == pinned.version()) {
        if (!s.equals(pinnedSigned)) {
          throw new AuthenticationFailedException(
              "the control plane shows a different keyset version "
                  + k.version()
                  + " than the one pinned");
        }
        continue;
      }
      current = next(current, k, s);
    }
    return current;
  }

  static Keyset follow(Keyset start, List<Signed> rest) {
    Keyset current = start;
    for (Signed s : rest) {
      current = next(current, Keyset.of(s), s);
    }
    return current;
  }

  private static Keyset next(Keyset current, Keyset k, Signed s) {
    if (k.version() != current.version() + 1 || !k.workspaceId().equals(current.workspaceId())) {
      throw new AuthenticationFailedException(
          "keyset version " + k.version() + " does not follow version " + current.version());
    }
    s.verify(current.signingKey());
    return k;
  }
}
