package dev.umbra.client.trust;

import dev.umbra.client.trust.TrustModel.Credential;
import dev.umbra.client.trust.TrustModel.Keyset;
import dev.umbra.client.trust.TrustModel.Revocation;
import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.sign.Signed;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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
   * What is pinned: the current keyset (and its signed form), the chain from version 1 to it, the
   * revoked device ids with their signed revocations, and the trusted devices' credentials of the
   * current keyset version ({@code current}, by device id; each verified under the current signing
   * key and not revoked) — what a re-check of a live session looks its device up in.
   */
  public record Pin(
      Keyset keyset,
      Signed signedKeyset,
      List<Signed> chain,
      Set<UUID> revoked,
      List<Signed> revocations,
      Map<UUID, Signed> current) {
    public Pin {
      chain = List.copyOf(chain);
      revoked = Set.copyOf(revoked);
      revocations = List.copyOf(revocations);
      current = Map.copyOf(current);
    }

    public Pin(
        Keyset keyset,
        Signed signedKeyset,
        List<Signed> chain,
        Set<UUID> revoked,
        List<Signed> revocations) {
      this(keyset, signedKeyset, chain, revoked, revocations, Map.of());
    }
  }

  /**
   * Why a client is (no longer) admitted, as the short machine-readable codes of refusals and
   * session ends ({@link #code()}).
   */
  public enum Refusal {
    BAD_DEVICE_CREDENTIAL("bad_device_credential"),
    DEVICE_REVOKED("device_revoked"),
    DEVICE_NOT_TRUSTED("device_not_trusted"),
    CREDENTIAL_KEY_MISMATCH("credential_key_mismatch");

    private final String code;

    Refusal(String code) {
      this.code = code;
    }

    public String code() {
      return code;
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
    return authorize(credential)
        .filter(c -> c.keys().signingKey().equals(presentedKey))
        .isPresent();
  }

  /**
   * Why {@code credential} is not authorized, as a short machine-readable reason for refusals
   * ({@code bad_device_credential}, {@code device_revoked}, {@code device_not_trusted}); null when
   * it is authorized. Never throws.
   */
  public String refusal(Signed credential) {
    Credential c;
    try {
      c = Credential.of(credential);
    } catch (CryptoException | IllegalArgumentException | NullPointerException e) {
      return Refusal.BAD_DEVICE_CREDENTIAL.code();
    }
    if (pin.get().revoked().contains(c.deviceId())) {
      return Refusal.DEVICE_REVOKED.code();
    }
    return authorize(credential).isPresent() ? null : Refusal.DEVICE_NOT_TRUSTED.code();
  }

  /**
   * The re-check of a client admitted earlier (a live terminal or relay channel) against the
   * CURRENT pin, after a trust refresh: empty while the device is still admitted, else why it is
   * not. {@code admittedWith} is the credential it presented when it was admitted and {@code
   * provenKey} the Ed25519 key it proved possession of then.
   *
   * <p>A rotation (every revocation causes one) makes {@code admittedWith} a credential of an older
   * keyset version, so it is not checked as if it were presented today: the device is still
   * admitted when no signed revocation names it and either that credential is still current, or the
   * pin holds a credential of the current version for the same device id, signed by the current
   * workspace key (verified when it arrived), naming the same device keys. The control plane cannot
   * sign such a credential, so it can neither re-admit a revoked device nor keep alive a device the
   * rotation left out (withholding one only ends that device's sessions). Never throws.
   */
  public Optional<Refusal> recheck(Signed admittedWith, Ed25519PublicKey provenKey) {
    Credential c;
    try {
      c = Credential.of(admittedWith);
    } catch (CryptoException | IllegalArgumentException | NullPointerException e) {
      return Optional.of(Refusal.BAD_DEVICE_CREDENTIAL);
    }
    Pin p = pin.get();
    if (p.revoked().contains(c.deviceId())) {
      return Optional.of(Refusal.DEVICE_REVOKED);
    }
    if (!c.keys().signingKey().equals(provenKey)) {
      return Optional.of(Refusal.CREDENTIAL_KEY_MISMATCH);
    }
    if (authorize(admittedWith).isPresent()) {
      return Optional.empty();
    }
    Signed reissued = p.current().get(c.deviceId());
    if (reissued != null) {
      Optional<Credential> now = authorize(reissued);
      if (now.isPresent()
          && now.get().deviceId().equals(c.deviceId())
          && now.get().keys().equals(c.keys())) {
        return Optional.empty();
      }
    }
    return Optional.of(Refusal.DEVICE_NOT_TRUSTED);
  }

  /** The parsed credential when authorized; empty for anything else (never throws). */
  public Optional<Credential> authorize(Signed credential) {
    if (credential == null) {
      return Optional.empty();
    }
    Pin p = pin.get();
    try {
      Credential c = Credential.of(credential);
      if (!c.workspaceId().equals(workspaceId)
          || c.keysetVersion() != p.keyset().version()
          || p.revoked().contains(c.deviceId())) {
        return Optional.empty();
      }
      credential.verify(p.keyset().signingKey());
      return Optional.of(c);
    } catch (CryptoException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /**
   * Applies trust material fetched from the control plane: follows the keyset chain from the pin
   * (refusing forks and bad links) and adds every revocation the current signing key or an earlier
   * one in the chain signed. Returns the new pin.
   */
  public Pin update(List<Signed> chain, List<Signed> revocations) {
    return update(chain, revocations, List.of());
  }

  /**
   * As {@link #update(List, List)}, and also keeps the trusted devices' credentials of the current
   * keyset version ({@code credentials}, as the control plane serves them): each is kept only when
   * the current workspace signing key signed it for the current version and no revocation names the
   * device; anything else is ignored. Credentials kept from an earlier sync stay while the version
   * does not change.
   */
  public Pin update(List<Signed> chain, List<Signed> revocations, List<Signed> credentials) {
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
    Map<UUID, Signed> reissued = new HashMap<>();
    if (current.version() == old.keyset().version()) {
      reissued.putAll(old.current());
    }
    for (Signed cred : credentials) {
      verifiedCurrent(cred, current).ifPresent(c -> reissued.put(c.deviceId(), cred));
    }
    reissued.keySet().removeAll(revoked);
    Pin next = new Pin(current, signedCurrent, fullChain, revoked, kept, reissued);
    pin.set(next);
    return next;
  }

  /**
   * The credential when {@code keyset}'s signing key signed it for that version of this workspace
   * (never throws).
   */
  Optional<Credential> verifiedCurrent(Signed credential, Keyset keyset) {
    try {
      Credential c = Credential.of(credential);
      if (!c.workspaceId().equals(workspaceId) || c.keysetVersion() != keyset.version()) {
        return Optional.empty();
      }
      credential.verify(keyset.signingKey());
      return Optional.of(c);
    } catch (CryptoException | IllegalArgumentException | NullPointerException e) {
      return Optional.empty();
    }
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
    Map<UUID, Signed> reissued = new HashMap<>(p.current());
    reissued.remove(id.get());
    pin.set(new Pin(p.keyset(), p.signedKeyset(), p.chain(), revoked, kept, reissued));
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
