package dev.umbra.daemon.tty;

import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.client.tty.Handshake;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.crypto.webtty.KeyId;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * WebTTY client authorization by signed device credentials (docs/device-trust.md, issue 5): while
 * the binding has pinned trust material, a ClientProof is accepted only when it carries a
 * credential the pinned workspace key signed for the current keyset version, the device is not
 * revoked, and the credential's Ed25519 key is the key that signed the proof. The control plane's
 * device list is never consulted, and the legacy key list is never a fallback: fail closed.
 *
 * <p>While nothing is pinned (a workspace without Workspace Protection) the {@code legacy}
 * authorizer ({@code tty-authorized-keys}) decides, as before.
 */
public final class DeviceCredentialAuthorizer implements ClientAuthorizer {
  private static final Logger log = LoggerFactory.getLogger(DeviceCredentialAuthorizer.class);
  private final Supplier<Optional<DeviceTrust>> trust;
  private final ClientAuthorizer legacy;

  /**
   * {@code trust} is asked once per session (e.g. re-reading the binding's pin, kept fresh by
   * TrustSync).
   */
  public DeviceCredentialAuthorizer(
      Supplier<Optional<DeviceTrust>> trust, ClientAuthorizer legacy) {
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
      return DeviceTrust.Refusal.CREDENTIAL_KEY_MISMATCH.code();
    }
    return null;
  }

  /**
   * The re-check of a live session (docs/device-trust.md): the device is looked up under the
   * current pin ({@link DeviceTrust#recheck}), not its credential from the open checked as if
   * presented today — after the rotation a revocation causes, that credential is of an older keyset
   * version. A pin that cannot be read says nothing about the device: the session is kept (new
   * sessions are refused) until a readable pin decides.
   */
  @Override
  public String recheck(UUID workspaceId, Ed25519PublicKey key, Signed credential) {
    Optional<DeviceTrust> pinned;
    try {
      pinned = trust.get();
    } catch (RuntimeException e) {
      log.warn(
          "re-check skipped: the pinned trust cannot be read ({}); live sessions kept, new ones refused",
          e.getClass().getSimpleName());
      return null;
    }
    if (pinned.isEmpty()) {
      return legacy.recheck(workspaceId, key, credential);
    }
    DeviceTrust t = pinned.get();
    if (!t.workspaceId().equals(workspaceId)) {
      return "wrong_workspace_trust";
    }
    if (credential == null) {
      return "no_device_credential"; // opened before the workspace was protected: not admitted
      // under the pin
    }
    return t.recheck(credential, key).map(DeviceTrust.Refusal::code).orElse(null);
  }

  /**
   * Under the pin: the key ids of the devices whose credential the pinned workspace key signed for
   * the current version (not revoked) and whose WebTTY key binding that device signed. An
   * unreadable pin vouches for nobody (new sessions are refused anyway).
   */
  @Override
  public Optional<Set<KeyId>> vouchedRecipients(
      UUID workspaceId, List<Handshake.RecipientDevice> devices) {
    Optional<DeviceTrust> pinned;
    try {
      pinned = trust.get();
    } catch (RuntimeException e) {
      return Optional.of(Set.of());
    }
    if (pinned.isEmpty()) {
      return legacy.vouchedRecipients(workspaceId, devices);
    }
    DeviceTrust t = pinned.get();
    Set<KeyId> out = new HashSet<>();
    if (!t.workspaceId().equals(workspaceId)) {
      return Optional.of(out);
    }
    for (Handshake.RecipientDevice d : devices) {
      Optional<TrustModel.Credential> c = t.authorize(d.credential());
      if (c.isEmpty()) {
        continue;
      }
      try {
        out.add(KeyId.of(TrustModel.DeviceWebTtyKey.verified(d.webttyKey(), c.get()).key()));
      } catch (CryptoException | IllegalArgumentException e) {
        // a binding its device did not sign vouches for nothing
      }
    }
    return Optional.of(out);
  }

  @Override
  public long pinnedKeysetVersion() {
    try {
      return trust.get().map(t -> (long) t.pin().keyset().version()).orElse(0L);
    } catch (RuntimeException e) {
      return 0;
    }
  }
}
