package dev.umbra.daemon.trust;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.daemon.trust.TrustModel.Credential;
import dev.umbra.daemon.trust.TrustModel.Keyset;
import dev.umbra.daemon.trust.TrustModel.Revocation;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Offline verification of device credentials against the workspace trust material this daemon
 * pinned (docs/device-trust.md). The control plane's device list is never consulted: a device is
 * authorized only when the pinned workspace signing key signed its credential for the current
 * keyset version and no signed revocation names it. Thread-safe; updates are atomic swaps.
 */
public final class DeviceTrust {
  /**
   * What is pinned: the current keyset (and its signed form), the chain from version 1 to it, and
   * the revoked device ids with their signed revocations.
   */
  public record Pin(Keyset keyset, Signed signedKeyset, List<Signed> chain, Set<UUID> revoked, List<Signed> revocations) {
    public Pin {
      chain = List.copyOf(chain);
      revoked = Set.copyOf(revoked);
      revocations = List.copyOf(revocations);
    }
  }

  private final UUID workspaceId;
  private final AtomicReference<Pin> pin;

  public DeviceTrust(UUID workspaceId, Pin pin) {
    if (!pin.keyset().workspaceId().equals(workspaceId)) {
      throw new AuthenticationFailedException("the pinned keyset belongs to another workspace");
    }
    this.workspaceId = workspaceId;
    this.pin = new AtomicReference<>(pin);
  }

  public UUID workspaceId() {
    return workspaceId;
  }

  public Pin pin() {
    return pin.get();
  }

  /** True when {@code credential} is a valid, current, unrevoked credential of this workspace. */
  public boolean isAuthorized(Signed credential) {
    return authorize(credential).isPresent();
  }

  /**
   * As {@link #isAuthorized(Signed)}, and also requires that the device key in the credential is
   * {@code presentedKey} (the key the caller proved possession of, e.g. in a ClientProof).
   */
  public boolean isAuthorized(Signed credential, Ed25519PublicKey presentedKey) {
    return authorize(credential).filter(c -> c.keys().signingKey().equals(presentedKey)).isPresent();
  }

  /**
   * Why {@code credential} is not authorized, as a short machine-readable reason for refusals
   * ({@code bad_device_credential}, {@code device_revoked}, {@code device_not_trusted}); null when it
   * is authorized. Never throws.
   */
  public String refusal(Signed credential) {
    Credential c;
    try {
      c = Credential.of(credential);
    } catch (CryptoException | IllegalArgumentException | NullPointerException e) {
      return "bad_device_credential";
    }
    if (pin.get().revoked().contains(c.deviceId())) {
      return "device_revoked";
    }
    return authorize(credential).isPresent() ? null : "device_not_trusted";
  }

  /** The parsed credential when authorized; empty for anything else (never throws). */
  public Optional<Credential> authorize(Signed credential) {
    if (credential == null) {
      return Optional.empty();
    }
    Pin p = pin.get();
    try {
      Credential c = Credential.of(credential);
      if (!c.workspaceId().equals(workspaceId) || c.keysetVersion() != p.keyset().version() || p.revoked().contains(c.deviceId())) {
        return Optional.empty();
      }
      credential.verify(p.keyset().signingKey());
      return Optional.of(c);
    } catch (CryptoException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /**
   * Applies trust material fetched from the control plane: follows the keyset chain from the
   * pin (refusing forks and bad links) and adds every revocation the current signing key or an
   * earlier one in the chain signed. Returns the new pin.
   */
  public Pin update(List<Signed> chain, List<Signed> revocations) {
    Pin old = pin.get();
    Keyset current = KeysetChain.verifyFrom(old.keyset(), old.signedKeyset(), chain);
    Signed signedCurrent = old.signedKeyset();
    List<Signed> fullChain = new java.util.ArrayList<>(old.chain());
    for (Signed s : chain) {
      int v = TrustModel.Keyset.of(s).version();
      if (v > old.keyset().version() && v <= current.version()) {
        fullChain.add(s);
      }
      if (v == current.version()) {
        signedCurrent = s;
      }
    }
    Set<UUID> revoked = new HashSet<>(old.revoked());
    List<Signed> kept = new java.util.ArrayList<>(old.revocations());
    for (Signed r : revocations) {
      Optional<UUID> id = revocation(r, current, old.keyset());
      if (id.isPresent() && revoked.add(id.get())) {
        kept.add(r);
      }
    }
    Pin next = new Pin(current, signedCurrent, fullChain, revoked, kept);
    pin.set(next);
    return next;
  }

  /** Applies one revocation as it arrives (e.g. from the bus through the daemon's session). */
  public boolean revoke(Signed revocation) {
    Pin p = pin.get();
    Optional<UUID> id = revocation(revocation, p.keyset(), p.keyset());
    if (id.isEmpty()) {
      return false;
    }
    Set<UUID> revoked = new HashSet<>(p.revoked());
    List<Signed> kept = new java.util.ArrayList<>(p.revocations());
    if (revoked.add(id.get())) {
      kept.add(revocation);
    }
    pin.set(new Pin(p.keyset(), p.signedKeyset(), p.chain(), revoked, kept));
    return true;
  }

  private Optional<UUID> revocation(Signed r, Keyset current, Keyset previous) {
    try {
      Revocation rev = Revocation.of(r);
      if (!rev.workspaceId().equals(workspaceId)) {
        return Optional.empty();
      }
      if (r.verifies(current.signingKey()) || r.verifies(previous.signingKey())) {
        return Optional.of(rev.deviceId());
      }
      return Optional.empty();
    } catch (CryptoException e) {
      return Optional.empty();
    }
  }
}
