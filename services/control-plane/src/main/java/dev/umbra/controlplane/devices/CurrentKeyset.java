package dev.umbra.controlplane.devices;

import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.errors.Refusal.Conflict.Reason;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import io.vertx.core.Future;

/**
 * The newest keyset of a workspace: its version and the public key that signs for the workspace.
 */
record CurrentKeyset(int version, Ed25519PublicKey signingKey) {
  /** {@code current}, or a conflict when the workspace has no keyset yet (null). */
  static Future<CurrentKeyset> required(CurrentKeyset current) {
    return current == null
        ? Future.failedFuture(
            Refusal.conflict(
                Reason.NO_KEYSET,
                "the workspace has no keyset yet: its first owner creates it with `umbra device trust`"))
        : Future.succeededFuture(current);
  }
}
