package dev.umbra.cli.tty;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliException;
import dev.umbra.cli.devices.DeviceStore;
import dev.umbra.cli.devices.WorkspaceProtection;
import dev.umbra.client.api.Member;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.client.tty.Handshake;
import dev.umbra.client.ttypolicy.TtyPolicy;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The output-key recipients the workspace's signed trust material names for a session
 * (docs/webtty.md, "Recipients"): the trusted devices whose credential this CLI verified against
 * its pinned keyset chain and whose WebTTY key binding the device itself signed, of the members the
 * machine's join policy allows. The control plane's device list is only where the signed documents
 * come from; an entry that does not verify is left out, never trusted. The daemon checks the chosen
 * set again against its own pin.
 */
final class TtyRecipients {
  private TtyRecipients() {}

  /** A trusted device a session's output key can be granted to. */
  record Recipient(
      UUID deviceId,
      UUID accountId,
      String name,
      X25519PublicKey key,
      Handshake.RecipientDevice vouch) {}

  /**
   * Publishes this device's WebTTY key binding unless the control plane already serves exactly this
   * key for it, so teammates' CLIs can add this device to their sessions.
   */
  static void publishOwn(Api api, WorkspaceProtection wp, TtyKeys keys, Clock clock) {
    DeviceStore.Device d = wp.store().require();
    String path = ControlPlanePaths.device(wp.workspaceId(), d.id());
    JsonObject row = api.get(path);
    JsonObject served = row.getJsonObject("webtty_key");
    if (served != null) {
      try {
        TrustModel.DeviceWebTtyKey k = TrustModel.DeviceWebTtyKey.of(Signed.fromJson(served));
        if (k.key().equals(keys.agreement().publicKey())
            && Signed.fromJson(served).verifies(d.signing().publicKey())) {
          return;
        }
      } catch (CryptoException e) {
        // a binding that does not parse is replaced
      }
    }
    Signed binding =
        Signed.sign(
            new TrustModel.DeviceWebTtyKey(
                    wp.workspaceId(),
                    d.id(),
                    keys.agreement().publicKey(),
                    clock.instant().toString())
                .fields(),
            d.signing().privateKey());
    api.call("PUT", path + "/webtty-key", new JsonObject().put("webtty_key", binding.toJson()));
  }

  /**
   * Every trusted device with a credential of the verified current keyset and a binding it signed.
   */
  static List<Recipient> trustedDevices(
      Api api, WorkspaceProtection wp, WorkspaceProtection.Verified v) {
    List<Recipient> out = new ArrayList<>();
    for (Object o : api.all(ControlPlanePaths.devices(wp.workspaceId()))) {
      JsonObject row = (JsonObject) o;
      Optional<TrustModel.Credential> c = wp.verifiedCredential(row, v);
      if (c.isEmpty() || row.getJsonObject("webtty_key") == null) {
        continue;
      }
      try {
        Signed binding = Signed.fromJson(row.getJsonObject("webtty_key"));
        TrustModel.DeviceWebTtyKey k = TrustModel.DeviceWebTtyKey.verified(binding, c.get());
        out.add(
            new Recipient(
                c.get().deviceId(),
                UUID.fromString(row.getString("account_id")),
                c.get().name(),
                k.key(),
                new Handshake.RecipientDevice(
                    Signed.fromJson(row.getJsonObject("credential")), binding)));
      } catch (CryptoException | IllegalArgumentException e) {
        // a binding its device did not sign is not a recipient
      }
    }
    return out;
  }

  /**
   * The trusted devices {@code values} name (a device id or name, or a member's account id or name:
   * all of that member's devices), from {@link #trustedDevices}; a value naming none is an error.
   */
  static List<Recipient> named(
      Api api,
      WorkspaceProtection wp,
      WorkspaceProtection.Verified v,
      UUID w,
      List<String> values) {
    List<Recipient> devices = trustedDevices(api, wp, v);
    java.util.Map<UUID, String> members = new java.util.HashMap<>();
    for (Member m : api.members(w)) {
      members.put(m.accountId(), m.name());
    }
    List<Recipient> out = new ArrayList<>();
    for (String value : values) {
      List<Recipient> hit = new ArrayList<>();
      for (Recipient r : devices) {
        if (r.deviceId().toString().equals(value)
            || r.name().equalsIgnoreCase(value)
            || r.accountId().toString().equals(value)
            || value.equalsIgnoreCase(members.getOrDefault(r.accountId(), ""))) {
          hit.add(r);
        }
      }
      if (hit.isEmpty()) {
        throw new CliException(
            "no trusted device with a published WebTTY key matches "
                + value
                + " (a device id or name, or a member's id or name; the device publishes its key with `umbra tty key --publish`)");
      }
      hit.stream().filter(r -> !out.contains(r)).forEach(out::add);
    }
    return out;
  }

  /**
   * The machine's policy as this CLI verifies it (the built-in default when none was set; empty
   * when it does not verify).
   */
  static Optional<TtyPolicy> policy(
      Api api, WorkspaceProtection wp, WorkspaceProtection.Verified v, UUID machineId) {
    JsonObject stored = api.get(ControlPlanePaths.machineTtyPolicy(wp.workspaceId(), machineId));
    if (stored.getJsonObject("policy") == null) {
      return Optional.of(TtyPolicy.builtInDefault(wp.workspaceId(), machineId));
    }
    return MachinePolicyCommand.check(api, wp.workspaceId(), machineId, stored, wp, Optional.of(v))
        .policy();
  }

  /**
   * Who may join, as this CLI verified the machine's policy: the signed document's {@code join};
   * the daemons' built-in default when none was set; {@code nobody} (the strictest, as daemons do)
   * when the stored document does not verify.
   */
  static TtyPolicy.Join join(
      Api api, WorkspaceProtection wp, WorkspaceProtection.Verified v, UUID machineId) {
    return policy(api, wp, v, machineId).map(TtyPolicy::join).orElse(TtyPolicy.Join.NOBODY);
  }

  /**
   * The accounts with role admin or owner. Roles are the control plane's word (credentials name no
   * role): a hostile control plane could call a member an admin and so add that member's trusted
   * devices under {@code admins} — never a device the workspace key did not sign.
   */
  static Set<UUID> admins(Api api, UUID workspaceId) {
    Set<UUID> out = new HashSet<>();
    for (Member m : api.members(workspaceId)) {
      if ("admin".equals(m.role()) || "owner".equals(m.role())) {
        out.add(m.accountId());
      }
    }
    return out;
  }

  /** The devices {@code join} allows, without this device (the opener is a recipient anyway). */
  static List<Recipient> allowed(
      List<Recipient> devices, TtyPolicy.Join join, Set<UUID> admins, UUID self) {
    List<Recipient> out = new ArrayList<>();
    for (Recipient r : devices) {
      boolean ok =
          switch (join) {
            case NOBODY -> false;
            case ADMINS -> admins.contains(r.accountId());
            case MEMBERS -> true;
          };
      if (ok && !r.deviceId().equals(self)) {
        out.add(r);
      }
    }
    return out;
  }

  /**
   * {@code --share-with <hex>} under Workspace Protection: only the published WebTTY key of a
   * trusted device (the daemon would refuse any other key: {@code
   * proof_refused_unvouched_recipient}).
   */
  static Recipient shared(List<Recipient> devices, X25519PublicKey key) {
    for (Recipient r : devices) {
      if (r.key().equals(key)) {
        return r;
      }
    }
    throw new CliException(
        "--share-with "
            + key.toHex()
            + ": the workspace is protected, and this is not the WebTTY key of a"
            + " trusted device (its device publishes it with any `umbra tty` command); raw keys cannot be recipients here");
  }
}
