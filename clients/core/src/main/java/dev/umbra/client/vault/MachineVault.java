package dev.umbra.client.vault;

import dev.umbra.client.binding.Binding;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;

/**
 * A daemon reading the context vault with the grant a trusted device sealed to its binding key. The
 * grant's keys must be the encryption keys of the workspace keyset chain this daemon pinned, so a
 * control plane cannot hand it keys (and entries) of its own.
 */
public final class MachineVault {
  public static final String PATH = ControlPlanePaths.MACHINE_VAULT;
  private final JsonHttp http;
  private final Clock clock;

  public MachineVault(JsonHttp http, Clock clock) {
    this.http = http;
    this.clock = clock;
  }

  /** The bytes a machine signs to read entry {@code name}. */
  public static byte[] message(UUID workspaceId, UUID machineId, long timestampMs, String name) {
    return MachineRequests.vault(workspaceId, machineId, timestampMs, name);
  }

  /**
   * The value of entry {@code name}; throws a {@code CryptoException} for anything that does not
   * verify or open.
   */
  public byte[] read(
      Binding b, Ed25519KeyPair signing, X25519KeyPair agreement, DeviceTrust trust, String name) {
    long ts = clock.millis();
    JsonObject body =
        new JsonObject()
            .put("workspace_id", b.workspaceId().toString())
            .put("machine_id", b.machineId().toString())
            .put("timestamp_ms", ts)
            .put("name", name)
            .put(
                "signature",
                HexFormat.of()
                    .formatHex(
                        signing
                            .privateKey()
                            .sign(message(b.workspaceId(), b.machineId(), ts, name))));
    JsonObject r = http.post(JsonHttp.resolve(b.controlPlaneUrl(), PATH), null, body);
    JsonObject g = r.getJsonObject("grant");
    JsonObject e = r.getJsonObject("entry");
    if (g == null || e == null || !name.equals(e.getString("name"))) {
      throw new MalformedInputException("the control plane answered with another entry");
    }
    try {
      Map<Integer, X25519KeyPair> keys =
          VaultGrants.open(
              agreement,
              b.workspaceId(),
              b.machineId(),
              g.getInteger("keyset_version"),
              Base64.getDecoder().decode(g.getString("enc")),
              Base64.getDecoder().decode(g.getString("ciphertext")));
      for (Signed s : trust.pin().chain()) {
        TrustModel.Keyset k = TrustModel.Keyset.of(s);
        X25519KeyPair granted = keys.get(k.version());
        if (granted != null && !granted.publicKey().equals(k.encryptionKey())) {
          throw new AuthenticationFailedException(
              "the vault grant holds a key that is not the pinned workspace key of version "
                  + k.version());
        }
      }
      int version = e.getInteger("keyset_version");
      X25519KeyPair key = keys.get(version);
      if (key == null
          || trust.pin().chain().stream()
              .noneMatch(s -> TrustModel.Keyset.of(s).version() == version)) {
        throw new AuthenticationFailedException(
            "no pinned, granted key for keyset version "
                + version
                + " (grant again after a rotation)");
      }
      return VaultCrypto.open(
          key,
          b.workspaceId(),
          name,
          version,
          Base64.getDecoder().decode(e.getString("enc")),
          Base64.getDecoder().decode(e.getString("ciphertext")));
    } catch (IllegalArgumentException | NullPointerException | ClassCastException ex) {
      throw new MalformedInputException("the vault answer is malformed");
    }
  }
}
