package dev.umbra.crypto.messaging;

/**
 * A prekey bundle whose signatures, pinned identity and validity window were checked by {@link
 * PrekeyBundle#verify}; the only input {@link X3dh#initiate} accepts.
 */
public final class VerifiedPrekeyBundle {
  private final PrekeyBundle bundle;

  VerifiedPrekeyBundle(PrekeyBundle bundle) {
    this.bundle = bundle;
  }

  public PrekeyBundle bundle() {
    return bundle;
  }
}
