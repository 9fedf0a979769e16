package dev.umbra.daemon.pairing;

import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.channel.ChannelProtocol;
import dev.umbra.client.http.ApiError;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.crypto.noise.NoisePsk;
import dev.umbra.proto.api.ControlPlanePaths;
import dev.umbra.proto.api.PairingPaths;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.Locale;
import java.util.UUID;

/**
 * Pairs this machine to a workspace with a pairing code: makes a new X25519 and Ed25519 identity
 * for this binding only (the private keys never leave UMBRA_HOME), finds the pairing service
 * through the control plane's discovery, redeems the code with the public keys, and stores the
 * binding. A failed redemption deletes the unused keys.
 */
public final class DaemonPairing {
  private final JsonHttp http;
  private final BindingStore store;
  private final Clock clock;

  public DaemonPairing(JsonHttp http, BindingStore store, Clock clock) {
    this.http = http;
    this.store = store;
    this.clock = clock;
  }

  /** What pairing asks for; the PSK is sent only when the code requires it. */
  public record Request(String controlPlaneUrl, String code, String name, String psk) {
    @Override
    public String toString() {
      return "PairRequest[" + controlPlaneUrl + ", " + name + "]";
    }
  }

  public Binding pair(Request req) {
    String cp = req.controlPlaneUrl().replaceAll("/+$", "");
    JsonObject discovery = http.get(JsonHttp.resolve(cp, ControlPlanePaths.DISCOVERY), null);
    String pairing = discovery.getJsonObject("services", new JsonObject()).getString("pairing");
    if (pairing == null) {
      throw new ApiError(
          0, "bad_discovery", cp + " did not name a pairing service in /v1/discovery", null);
    }
    BindingStore.Pending pending = store.prepare();
    boolean done = false;
    try {
      JsonObject body =
          new JsonObject()
              .put("code", req.code().trim())
              .put("install_id", pending.installId().toString())
              .put("x25519_public_key", pending.x25519().publicKey().toHex())
              .put("ed25519_public_key", pending.ed25519().publicKey().toHex())
              .put("name", req.name())
              .put("os", System.getProperty("os.name", "unknown").toLowerCase(Locale.ROOT));
      if (req.psk() != null) {
        body.put("psk", req.psk());
      }
      JsonObject r = http.post(JsonHttp.resolve(pairing, PairingPaths.REDEEM), null, body);
      Binding b =
          new Binding(
              UUID.fromString(r.getString("workspace_id")),
              UUID.fromString(r.getString("machine_id")),
              pending.installId(),
              cp,
              req.name(),
              clock.instant().toString());
      java.nio.file.Path dir = store.commit(pending, b);
      done = true;
      if (req.psk() != null && r.getBoolean("psk_required", false)) {
        // pairing verified the workspace PSK: the relay handshake (IKpsk2) needs it on every start
        store.saveRelayPsk(
            b, NoisePsk.fromBytes(ChannelProtocol.psk(b.workspaceId().toString(), req.psk())));
      }
      // pin the workspace's trust material now (docs/device-trust.md); a workspace without a keyset
      // pins on first sync
      new dev.umbra.client.trust.TrustSync(http, clock).pinAtPairing(b, dir, pending.ed25519());
      return b;
    } finally {
      if (!done) {
        store.discard(pending);
      }
    }
  }
}
