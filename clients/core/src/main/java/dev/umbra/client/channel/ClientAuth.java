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
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Who may open a relay channel under Workspace Protection (docs/relay.md): the client puts its
 * device credential (signed by the workspace key) and a signature by the device's Ed25519 key over
 * its Noise static key and the channel's context into the payload of Noise message 1, which is
 * encrypted (after {@code es}), so the relay never sees it. Device credentials name Ed25519 and
 * P-256 keys only, so the X25519 static key is bound by that signature:
 *
 * <pre>
 * payload  = canonical JSON {"type":"umbra-relay-client-auth/v1","credential":{"payload","signature"},"static_key_signature":hex}
 * signed   = canonical JSON {"type":"umbra-relay-client-static/v1","workspace_id","target_id","noise_static_key":hex}
 * </pre>
 *
 * The daemon checks the credential against its pinned trust (offline) and the signature against the
 * static key the handshake authenticated; a workspace without a pin accepts any member, as before.
 */
public final class ClientAuth {
  public static final String TYPE = "umbra-relay-client-auth/v1";
  public static final String STATIC_TYPE = "umbra-relay-client-static/v1";

  /** Largest message-1 payload accepted (a credential is at most 4096 characters). */
  public static final int MAX_PAYLOAD = 16_384;

  private static final HexFormat HEX = HexFormat.of();

  private ClientAuth() {}

  static Map<String, Object> staticBinding(
      String workspace, String target, X25519PublicKey staticKey) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("type", STATIC_TYPE);
    m.put("workspace_id", workspace);
    m.put("target_id", target);
    m.put("noise_static_key", staticKey.toHex());
    return m;
  }

  /** The payload of Noise message 1 for a device that signs with {@code deviceKey}. */
  public static byte[] payload(
      Signed credential,
      Ed25519KeyPair deviceKey,
      String workspace,
      String target,
      X25519PublicKey staticKey) {
    Map<String, Object> cred = new LinkedHashMap<>();
    cred.put("payload", credential.payload());
    cred.put("signature", HEX.formatHex(credential.signature()));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("type", TYPE);
    m.put("credential", cred);
    m.put(
        "static_key_signature",
        HEX.formatHex(
            CanonicalJsonSignatures.signEd25519(
                deviceKey.privateKey(), staticBinding(workspace, target, staticKey))));
    return CanonicalJson.encode(m);
  }

  /**
   * Null when a client whose authenticated Noise static key is {@code remoteStatic} and whose
   * message 1 carried {@code payload} may open a channel; else a short reason. Never throws.
   */
  public static String refusal(
      Optional<DeviceTrust> trust,
      byte[] payload,
      String workspace,
      String target,
      X25519PublicKey remoteStatic) {
    if (trust.isEmpty()) {
      return null; // no Workspace Protection: any member of the workspace (the relay checked the
      // token)
    }
    if (payload == null || payload.length == 0) {
      return ChannelReasons.wire(ChannelReason.CHANNEL_REASON_NO_DEVICE_CREDENTIAL);
    }
    Optional<Parsed> parsed = parse(payload);
    if (parsed.isEmpty()) {
      return DeviceTrust.Refusal.BAD_DEVICE_CREDENTIAL.code();
    }
    Signed credential = parsed.get().credential();
    DeviceTrust t = trust.get();
    String refused = t.refusal(credential);
    if (refused != null) {
      return refused;
    }
    TrustModel.Credential c = TrustModel.Credential.of(credential);
    try {
      c.keys()
          .signingKey()
          .verify(
              CanonicalJson.encode(staticBinding(workspace, target, remoteStatic)),
              parsed.get().staticKeySignature());
    } catch (CryptoException | IllegalArgumentException e) {
      return ChannelReasons.wire(ChannelReason.CHANNEL_REASON_STATIC_KEY_NOT_BOUND);
    }
    return null;
  }

  /**
   * The re-check of an open channel after a trust refresh (docs/device-trust.md): null while the
   * device that opened it (with message-1 {@code payload}, admitted by {@link #refusal} then) is
   * still admitted under the current pin, else the reason, which then ends the channel. The static
   * key binding was verified at open and cannot change; the credential is not checked as if
   * presented today (a rotation made it one of an older version): {@link DeviceTrust#recheck}.
   * Never throws.
   */
  public static String recheck(Optional<DeviceTrust> trust, byte[] payload) {
    if (trust.isEmpty()) {
      return null; // no Workspace Protection (still): any member, as at open
    }
    if (payload == null || payload.length == 0) {
      return ChannelReasons.wire(
          ChannelReason
              .CHANNEL_REASON_NO_DEVICE_CREDENTIAL); // opened before the workspace was protected:
      // not admitted
      // under the pin
    }
    Optional<Parsed> parsed = parse(payload);
    if (parsed.isEmpty()) {
      return DeviceTrust.Refusal.BAD_DEVICE_CREDENTIAL.code();
    }
    Signed credential = parsed.get().credential();
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

  private record Parsed(Signed credential, byte[] staticKeySignature) {}

  private static Optional<Parsed> parse(byte[] payload) {
    if (payload.length > MAX_PAYLOAD) {
      return Optional.empty();
    }
    try {
      Object parsed = CanonicalJson.parse(payload);
      if (!(parsed instanceof Map<?, ?> m)
          || !Arrays.equals(CanonicalJson.encode(parsed), payload)
          || !TYPE.equals(m.get("type"))
          || !(m.get("credential") instanceof Map<?, ?> c)
          || !(c.get("payload") instanceof String p)
          || !(c.get("signature") instanceof String s)
          || !(m.get("static_key_signature") instanceof String ss)) {
        return Optional.empty();
      }
      return Optional.of(new Parsed(new Signed(p, HEX.parseHex(s)), HEX.parseHex(ss)));
    } catch (RuntimeException e) {
      return Optional.empty(); // whatever the parser says about bytes from outside: refuse
    }
  }
}
