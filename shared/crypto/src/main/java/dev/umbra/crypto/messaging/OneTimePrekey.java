package dev.umbra.crypto.messaging;

import dev.umbra.crypto.keys.X25519KeyPair;
import java.util.Objects;

/**
 * A one-time prekey held by its owner: id (uint32) and X25519 key pair; used by one session only.
 */
public record OneTimePrekey(long id, X25519KeyPair keyPair) {
  public OneTimePrekey {
    SignedPrekey.checkU32(id, "one-time prekey id");
    Objects.requireNonNull(keyPair, "keyPair");
  }

  public static OneTimePrekey generate(long id) {
    return new OneTimePrekey(id, X25519KeyPair.generate());
  }

  public PublicOneTimePrekey publicPart() {
    return new PublicOneTimePrekey(id, keyPair.publicKey());
  }
}
