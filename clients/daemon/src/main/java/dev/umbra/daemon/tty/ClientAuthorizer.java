package dev.umbra.daemon.tty;

import dev.umbra.client.tty.Handshake;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.crypto.webtty.KeyId;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The one step that decides whether a ClientProof's signer is authorized under the workspace trust.
 * With Workspace Protection (a pinned keyset) this is {@link DeviceCredentialAuthorizer}: the proof
 * must carry a device credential the workspace key signed, for the key that signed the proof.
 * Without it, the pinned {@link AuthorizedKeys} list (docs/webtty.md).
 */
@FunctionalInterface
public interface ClientAuthorizer {
  /** Whether {@code clientSigningKey} alone (no device credential) is authorized. */
  boolean authorized(UUID workspaceId, Ed25519PublicKey clientSigningKey);

  /**
   * Null when the client that signed a proof with {@code clientSigningKey}, presenting {@code
   * deviceCredential} (may be null), is authorized; else a short machine-readable reason.
   */
  default String refusal(
      UUID workspaceId, Ed25519PublicKey clientSigningKey, Signed deviceCredential) {
    return authorized(workspaceId, clientSigningKey) ? null : "unauthorized_key";
  }

  /**
   * The re-check of a live session's opener after a trust refresh: null while the client admitted
   * with {@code clientSigningKey} and {@code deviceCredential} is still admitted, else the reason
   * that ends its session. Only reasons meaning "no longer admitted" may be returned. Default: the
   * check at open.
   */
  default String recheck(
      UUID workspaceId, Ed25519PublicKey clientSigningKey, Signed deviceCredential) {
    return refusal(workspaceId, clientSigningKey, deviceCredential);
  }

  /** The pinned keyset version re-checks use now (0 when none), for status and tests. */
  default long pinnedKeysetVersion() {
    return 0;
  }

  /**
   * The WebTTY key ids of the recipient devices a ClientProof names that this trust vouches for
   * (docs/webtty.md, "Recipients"): under a pinned keyset, exactly those whose credential verifies
   * under the pin and whose WebTTY key binding the credential's device signed. Empty (not an empty
   * set) means "no pinned trust, recipients are not restricted" — only a workspace without
   * Workspace Protection, where raw {@code --share-with} keys are the opener's business.
   */
  default Optional<Set<KeyId>> vouchedRecipients(
      UUID workspaceId, List<Handshake.RecipientDevice> devices) {
    return Optional.empty();
  }
}
