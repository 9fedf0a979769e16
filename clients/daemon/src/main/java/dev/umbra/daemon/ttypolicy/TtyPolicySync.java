package dev.umbra.daemon.ttypolicy;

import dev.umbra.client.binding.Binding;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.trust.TrustSync;
import dev.umbra.client.ttypolicy.TtyPolicyPin;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.UUID;

/**
 * Fetches a binding's WebTTY policy document from the control plane ({@code POST
 * /v1/machine-tty-policy}, signed with the binding's Ed25519 key like the trust sync) and hands it
 * to the binding's {@link TtyPolicyPin}, which verifies it against the pinned trust.
 */
public final class TtyPolicySync {
  public static final String PATH = ControlPlanePaths.MACHINE_TTY_POLICY_SIGNED;
  private final JsonHttp http;
  private final Clock clock;

  public TtyPolicySync(JsonHttp http, Clock clock) {
    this.http = http;
    this.clock = clock;
  }

  /**
   * The bytes a machine signs to fetch its policy: {@code
   * "umbra-machine-tty-policy/v1\n<workspace>\n<machine>\n<timestamp_ms>"}.
   */
  public static byte[] message(UUID workspaceId, UUID machineId, long timestampMs) {
    return MachineRequests.ttyPolicy(workspaceId, machineId, timestampMs);
  }

  /** The document as served (not yet verified); empty when none was set. */
  public Optional<TtyPolicyPin.Document> fetch(Binding b, Ed25519KeyPair key) {
    long ts = clock.millis();
    JsonObject body = TrustSync.signedBody(b, key, ts, message(b.workspaceId(), b.machineId(), ts));
    JsonObject r = http.post(JsonHttp.resolve(b.controlPlaneUrl(), PATH), null, body);
    Object p = r.getValue("policy");
    if (p == null) {
      return Optional.empty();
    }
    if (!(p instanceof JsonObject j)) {
      throw new MalformedInputException("policy must be an object or null");
    }
    return Optional.of(TtyPolicyPin.Document.fromJson(j));
  }

  /**
   * Fetches and applies: the state of the binding's policy after this sync. A document that does
   * not verify is reported in the state and changes nothing; a malformed answer is treated the
   * same.
   */
  public TtyPolicyPin.State sync(
      Binding b, Path bindingDir, Ed25519KeyPair key, Optional<DeviceTrust> trust) {
    TtyPolicyPin pin = new TtyPolicyPin(bindingDir, b.workspaceId(), b.machineId());
    Optional<TtyPolicyPin.Document> served;
    try {
      served = fetch(b, key);
    } catch (MalformedInputException e) {
      TtyPolicyPin.State s = pin.apply(Optional.empty(), trust);
      return new TtyPolicyPin.State(
          s.policy(), s.held(), Optional.of(TtyPolicyPin.Refusal.MALFORMED), s.heldInvalid());
    }
    return pin.apply(served, trust);
  }
}
