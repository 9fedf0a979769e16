package dev.umbra.crypto.messaging;

import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.internal.PublicBytes;

/**
 * X3DH's associated data, bound into every message of a session: {@code encode(initiator identity)
 * || encode(responder identity)}, 128 bytes (each identity is its Ed25519 key then its X25519 key,
 * {@link PublicIdentity#encode()}).
 */
public final class SessionAd extends PublicBytes {
  public static final int LENGTH = 2 * PublicIdentity.LENGTH;

  private SessionAd(byte[] bytes) {
    super(bytes, LENGTH, "session associated data");
  }

  public static SessionAd of(PublicIdentity initiator, PublicIdentity responder) {
    return new SessionAd(Bytes.concat(initiator.encode(), responder.encode()));
  }

  public PublicIdentity initiator() {
    return PublicIdentity.read(
        Wire.of(java.util.Arrays.copyOf(raw(), PublicIdentity.LENGTH), "ad"));
  }

  public PublicIdentity responder() {
    return PublicIdentity.read(
        Wire.of(java.util.Arrays.copyOfRange(raw(), PublicIdentity.LENGTH, LENGTH), "ad"));
  }
}
