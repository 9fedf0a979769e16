package dev.umbra.cli.tty;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliException;
import dev.umbra.cli.devices.WorkspaceProtection;
import dev.umbra.client.tty.Handshake;
import dev.umbra.client.tty.TtyClient;
import dev.umbra.client.ttypolicy.TtyPolicy;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.sign.Signed;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Who gets a session's output key besides the server (docs/webtty.md, "Recipients"): at open, the
 * trusted devices the machine's join policy allows, its reviewers and {@code --share-with} keys; on
 * a live share, the members or devices named. Under Workspace Protection each comes with what
 * vouches for it to the daemon.
 */
final class SessionRecipients {
  private SessionRecipients() {}

  /**
   * With Workspace Protection (the workspace has a keyset) the proof carries this device's
   * workspace-signed credential and is signed with the device's Ed25519 key, which is what the
   * daemon checks (docs/webtty.md); without a keyset the CLI's WebTTY key signs, as before. A
   * workspace with a keyset and no valid credential for this device is an error, never a fallback.
   */
  static TtyClient.Options withDeviceCredential(TtyClient.Options o, Api api, UUID workspaceId) {
    return withDeviceCredential(o, api, workspaceId, null, null);
  }

  /**
   * As above, and for a session this device opens on {@code serverId} (null when joining or
   * attaching): its output-key recipients are the trusted devices of the members the machine's join
   * policy allows (docs/webtty.md, "Recipients"), each with what vouches for it to the daemon;
   * {@code --share-with} keys must be trusted devices' keys. {@code keys} (when given) is published
   * as this device's WebTTY key so that teammates' sessions include it.
   */
  static TtyClient.Options withDeviceCredential(
      TtyClient.Options o, Api api, UUID workspaceId, TtyKeys keys, String serverId) {
    WorkspaceProtection wp = new WorkspaceProtection(api, workspaceId);
    Optional<WorkspaceProtection.Verified> keyset = wp.keysetIfAny();
    if (keyset.isEmpty()) {
      return o;
    }
    Signed credential = wp.ownCredential();
    if (keys != null) {
      TtyRecipients.publishOwn(api, wp, keys, api.context().clock());
    }
    List<X25519PublicKey> extra = new ArrayList<>();
    List<Handshake.RecipientDevice> vouches = new ArrayList<>();
    if (serverId != null) {
      List<TtyRecipients.Recipient> devices = TtyRecipients.trustedDevices(api, wp, keyset.get());
      Optional<TtyPolicy> policy =
          TtyRecipients.policy(api, wp, keyset.get(), UUID.fromString(serverId));
      List<TtyRecipients.Recipient> chosen =
          new ArrayList<>(
              TtyRecipients.allowed(
                  devices,
                  policy.map(TtyPolicy::join).orElse(TtyPolicy.Join.NOBODY),
                  TtyRecipients.admins(api, workspaceId),
                  wp.store().require().id()));
      // the policy's reviewers read the recording (output here; the daemon grants them the input
      // keys)
      for (TtyPolicy.Reviewer reviewer : policy.map(p -> p.reviewers()).orElse(List.of())) {
        devices.stream()
            .filter(
                r ->
                    r.deviceId().equals(reviewer.deviceId())
                        && !chosen.contains(r)
                        && !r.deviceId().equals(wp.store().require().id()))
            .forEach(chosen::add);
      }
      for (X25519PublicKey k : o.extraRecipients()) {
        TtyRecipients.Recipient r = TtyRecipients.shared(devices, k);
        if (!chosen.contains(r)) {
          chosen.add(r);
        }
      }
      for (TtyRecipients.Recipient r : chosen) {
        if (!r.key().equals(o.agreementKey().publicKey()) && !extra.contains(r.key())) {
          extra.add(r.key());
          vouches.add(r.vouch());
        }
      }
    }
    return new TtyClient.Options(
        o.engineUrl(),
        o.workspaceId(),
        o.tokens(),
        wp.store().require().signing(),
        o.agreementKey(),
        o.trust(),
        extra,
        o.clock(),
        credential,
        vouches);
  }

  /**
   * The keys a share adds, with what vouches for each to the daemon (Workspace Protection), and
   * their names; {@code self} this device's own entry (its credential and WebTTY key binding; null
   * without Workspace Protection), which a controller who did not open the session names as the
   * sharer.
   */
  record ShareTargets(
      List<X25519PublicKey> keys,
      List<Handshake.RecipientDevice> vouches,
      List<String> names,
      Handshake.RecipientDevice self) {}

  /**
   * Resolves {@code umbra tty share --with} values. Under Workspace Protection each value is a
   * trusted device (id or name) or a member (account id or name), meaning all of that member's
   * trusted devices with a published WebTTY key, verified against this CLI's pinned keyset chain as
   * for "Recipients" (the daemon checks them again against its pin). Without it, a value is an
   * X25519 public key in hex (there is no signed trust material to name devices by).
   */
  static ShareTargets shareTargets(Api api, UUID w, List<String> with, X25519PublicKey self) {
    WorkspaceProtection wp = new WorkspaceProtection(api, w);
    Optional<WorkspaceProtection.Verified> keyset = wp.keysetIfAny();
    List<X25519PublicKey> keys = new ArrayList<>();
    List<Handshake.RecipientDevice> vouches = new ArrayList<>();
    List<String> names = new ArrayList<>();
    if (keyset.isEmpty()) {
      for (String v : with) {
        try {
          keys.add(X25519PublicKey.fromHex(v));
        } catch (RuntimeException e) {
          throw new CliException(
              "without Workspace Protection --with takes an X25519 key in hex (`umbra tty key`): "
                  + v);
        }
        names.add(v);
      }
      return new ShareTargets(keys, vouches, names, null);
    }
    Handshake.RecipientDevice own = null;
    for (TtyRecipients.Recipient r : TtyRecipients.trustedDevices(api, wp, keyset.get())) {
      if (r.key().equals(self)) {
        own = r.vouch();
      }
    }
    for (TtyRecipients.Recipient r : TtyRecipients.named(api, wp, keyset.get(), w, with)) {
      if (!r.key().equals(self) && !keys.contains(r.key())) {
        keys.add(r.key());
        vouches.add(r.vouch());
        names.add(r.name());
      }
    }
    return new ShareTargets(keys, vouches, names, own);
  }
}
