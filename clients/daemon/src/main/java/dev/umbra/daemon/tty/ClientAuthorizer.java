package dev.umbra.daemon.tty;

import dev.umbra.crypto.keys.Ed25519PublicKey;
import java.util.UUID;

/**
 * The one step that decides whether a ClientProof's signing key is "an authorized key under the
 * workspace trust". Until device trust (issue 5) lands this is a list of Ed25519 keys the daemon
 * pins ({@link AuthorizedKeys}); signed device credentials replace it behind this interface.
 */
@FunctionalInterface
public interface ClientAuthorizer {
  boolean authorized(UUID workspaceId, Ed25519PublicKey clientSigningKey);
}
