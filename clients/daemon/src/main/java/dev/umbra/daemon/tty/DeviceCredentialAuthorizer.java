package dev.umbra.daemon.tty;

import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.daemon.trust.DeviceTrust;
import dev.umbra.daemon.trust.Signed;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * WebTTY client authorization by signed device credentials (docs/device-trust.md, issue 5):
 * while the binding has pinned trust material, a ClientProof is accepted only when it carries a
 * credential the pinned workspace key signed for the current keyset version, the device is not
 * revoked, and the credential's Ed25519 key is the key that signed the proof. The control plane's
 * device list is never consulted, and the legacy key list is never a fallback: fail closed.
 *
 * <p>While nothing is pinned (a workspace without Workspace Protection) the {@code legacy}
 * authorizer ({@code tty-authorized-keys}) decides, as before.
 */
public final class DeviceCredentialAuthorizer implements ClientAuthorizer {
  private final Supplier<Optional<DeviceTrust>> trust;
  private final ClientAuthorizer legacy;

  /** {@code trust} is asked once per session (e.g. re-reading the binding's pin, kept fresh by TrustSync). */
  public DeviceCredentialAuthorizer(Supplier<Optional<DeviceTrust>> trust, ClientAuthorizer legacy) {
    this.trust = trust;
    this.legacy = legacy;
  }

  @Override
  public boolean authorized(UUID workspaceId, Ed25519PublicKey clientSigningKey) {
    return refusal(workspaceId, clientSigningKey, null) == null;
  }

  @Override
  public String refusal(UUID workspaceId, Ed25519PublicKey key, Signed credential) {
    Optional<DeviceTrust> pinned;
    try {
      pinned = trust.get();
    } catch (RuntimeException e) {
      return "trust_unreadable"; // an unreadable or edited pin never falls back to the key list
    }
    if (pinned.isEmpty()) {
      return legacy.refusal(workspaceId, key, credential);
    }
    DeviceTrust t = pinned.get();
    if (!t.workspaceId().equals(workspaceId)) {
      return "wrong_workspace_trust";
    }
    if (credential == null) {
      return "no_device_credential";
    }
    String refused = t.refusal(credential);
    if (refused != null) {
      return refused;
    }
    if (!t.isAuthorized(credential, key)) {
      return "credential_key_mismatch";
    }
    return null;
  }
}
