package dev.umbra.client.channel;

import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.sign.CanonicalJsonSignatures;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.proto.channel.ChannelReason;
import dev.umbra.proto.channel.ChannelReasons;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Who may open a relay channel under Workspace Protection (docs/relay.md): the client puts its
 * device credential (signed by the workspace key) and a signature by the device's Ed25519 key over
 * its Noise static key and the channel's context into the payload of Noise message 1 ({@link
 * HandshakePayload}), which is encrypted (after {@code es}), so the relay never sees it. Device
 * credentials name Ed25519 and P-256 keys only, so the X25519 static key is bound by that
 * signature:
 *
 * <pre>
 * proof    = "credential":{"payload","signature"}, "static_key_signature":hex (members of the payload)
 * signed   = canonical JSON {"type":"umbra-relay-client-static/v1","workspace_id","target_id","noise_static_key":hex}
 * </pre>
 *
 * The daemon checks the credential against its pinned trust (offline) and the signature against the
 * static key the handshake authenticated; a workspace without a pin accepts any member, as before.
 */
public final class ClientAuth {
  private ClientAuth() {}

  static Map<String, Object> staticBinding(
      String workspace, String target, X25519PublicKey staticKey) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("type", HandshakePayload.STATIC_TYPE);
    m.put("workspace_id", workspace);
    m.put("target_id", target);
    m.put("noise_static_key", staticKey.toHex());
    return m;
  }

  /** The proof of a device that signs with {@code deviceKey}, for channels to {@code target}. */
  public static HandshakePayload.DeviceProof proof(
      Signed credential,
      Ed25519KeyPair deviceKey,
      String workspace,
      String target,
      X25519PublicKey staticKey) {
    return new HandshakePayload.DeviceProof(
        credential,
        CanonicalJsonSignatures.signEd25519(
            deviceKey.privateKey(), staticBinding(workspace, target, staticKey)));
  }

  /**
   * Null when a client whose authenticated Noise static key is {@code remoteStatic} and whose
   * message 1 carried {@code payload} (parsed, its time checked) may open a channel; else a short
   * reason. Never throws.
   */
  public static String refusal(
      Optional<DeviceTrust> trust,
      HandshakePayload payload,
      String workspace,
      String target,
      X25519PublicKey remoteStatic) {
    if (trust.isEmpty()) {
      return null; // no Workspace Protection: any member of the workspace (the relay checked the
      // token)
    }
    if (payload.proof().isEmpty()) {
      return ChannelReasons.wire(ChannelReason.CHANNEL_REASON_NO_DEVICE_CREDENTIAL);
    }
    HandshakePayload.DeviceProof proof = payload.proof().get();
    String refused = trust.get().refusal(proof.credential());
    if (refused != null) {
      return refused;
    }
    try {
      TrustModel.Credential.of(proof.credential())
          .keys()
          .signingKey()
          .verify(
              CanonicalJson.encode(staticBinding(workspace, target, remoteStatic)),
              proof.staticKeySignature());
    } catch (CryptoException | IllegalArgumentException e) {
      return ChannelReasons.wire(ChannelReason.CHANNEL_REASON_STATIC_KEY_NOT_BOUND);
    }
    return null;
  }

  /**
   * The re-check of an open channel after a trust refresh (docs/device-trust.md): null while the
   * device that opened it (with message-1 {@code proof}, admitted by {@link #refusal} then) is
   * still admitted under the current pin, else the reason, which then ends the channel. The static
   * key binding was verified at open and cannot change; the credential is not checked as if
   * presented today (a rotation made it one of an older version): {@link DeviceTrust#recheck}.
   * Never throws.
   */
  public static String recheck(
      Optional<DeviceTrust> trust, Optional<HandshakePayload.DeviceProof> proof) {
    if (trust.isEmpty()) {
      return null; // no Workspace Protection (still): any member, as at open
    }
    if (proof.isEmpty()) {
      // opened before the workspace was protected: not admitted under the pin
      return ChannelReasons.wire(ChannelReason.CHANNEL_REASON_NO_DEVICE_CREDENTIAL);
    }
    Signed credential = proof.get().credential();
    TrustModel.Credential c;
    try {
      c = TrustModel.Credential.of(credential);
    } catch (RuntimeException e) {
      return DeviceTrust.Refusal.BAD_DEVICE_CREDENTIAL.code();
    }
    // at open the client proved the credential's key (it signed the Noise static key binding)
    return trust
        .get()
        .recheck(credential, c.keys().signingKey())
        .map(DeviceTrust.Refusal::code)
        .orElse(null);
  }
}
