package dev.umbra.client.trust;

import dev.umbra.client.binding.Binding;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Fetches the workspace's public trust material from the control plane (a request signed with the
 * binding's Ed25519 key) and pins or advances it locally. The control plane only carries signed
 * data here: everything is verified against the pin before it is used.
 */
public final class TrustSync {
  public static final String PATH = ControlPlanePaths.MACHINE_TRUST;
  private final JsonHttp http;
  private final Clock clock;

  public TrustSync(JsonHttp http, Clock clock) {
    this.http = http;
    this.clock = clock;
  }

  /** The bytes a machine signs to fetch trust material. */
  public static byte[] message(UUID workspaceId, UUID machineId, long timestampMs) {
    return MachineRequests.trust(workspaceId, machineId, timestampMs);
  }

  /**
   * The signed trust material as served (not yet verified): the keyset chain, the revocations and
   * the trusted devices' credentials of the current version (empty from a control plane that serves
   * none).
   */
  public record Material(
      List<Signed> keysets, List<Signed> revocations, List<Signed> credentials) {}

  /**
   * The body of a request a machine signs with its binding key: {@code workspace_id}, {@code
   * machine_id}, {@code timestamp_ms} and the hex {@code signature} over {@code message}.
   */
  public static JsonObject signedBody(
      Binding b, Ed25519KeyPair key, long timestampMs, byte[] message) {
    return new JsonObject()
        .put("workspace_id", b.workspaceId().toString())
        .put("machine_id", b.machineId().toString())
        .put("timestamp_ms", timestampMs)
        .put("signature", HexFormat.of().formatHex(key.privateKey().sign(message)));
  }

  public Material fetch(Binding b, Ed25519KeyPair key) {
    long ts = clock.millis();
    JsonObject body = signedBody(b, key, ts, message(b.workspaceId(), b.machineId(), ts));
    JsonObject r = http.post(JsonHttp.resolve(b.controlPlaneUrl(), PATH), null, body);
    return new Material(
        signedList(r.getJsonArray("keysets")),
        signedList(r.getJsonArray("revocations")),
        signedList(r.getJsonArray("credentials")));
  }

  static List<Signed> signedList(JsonArray a) {
    List<Signed> out = new ArrayList<>();
    if (a != null) {
      if (a.size() > 10_000) {
        throw new dev.umbra.crypto.MalformedInputException("too many signed entries");
      }
      for (Object o : a) {
        if (!(o instanceof JsonObject j)) {
          throw new dev.umbra.crypto.MalformedInputException("a signed entry must be an object");
        }
        out.add(Signed.fromJson(j));
      }
    }
    return out;
  }

  /**
   * Pins (first use) or advances the binding's trust: returns the verifier, or empty when the
   * workspace has no keyset yet and nothing was pinned before. A control plane that serves a chain
   * not following the pin fails with a {@code CryptoException}, and the pin is kept.
   */
  public Optional<DeviceTrust> sync(Binding b, Path bindingDir, Ed25519KeyPair key) {
    TrustStore store = new TrustStore(bindingDir);
    Optional<DeviceTrust> pinned = store.load(b.workspaceId());
    Material m = fetch(b, key);
    DeviceTrust t;
    if (pinned.isPresent()) {
      t = pinned.get();
      t.update(m.keysets(), m.revocations(), m.credentials());
    } else if (m.keysets().isEmpty()) {
      return Optional.empty();
    } else {
      t = TrustStore.pinFirst(b.workspaceId(), m.keysets(), m.revocations(), m.credentials());
    }
    store.save(t.pin());
    return Optional.of(t);
  }

  /**
   * Pins at pairing: as {@link #sync}, but a control plane that cannot serve trust material yet
   * (unreachable, older) leaves the binding unpinned, to be pinned on the first later sync. A chain
   * that does not verify is still an error.
   */
  public Optional<DeviceTrust> pinAtPairing(Binding b, Path bindingDir, Ed25519KeyPair key) {
    try {
      return sync(b, bindingDir, key);
    } catch (dev.umbra.client.http.ApiError e) {
      return Optional.empty();
    }
  }
}
