package dev.umbra.client.channel;

import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.proto.channel.ChannelReason;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The payload of Noise message 1 of every relay channel (docs/relay.md, "Message 1"): the time the
 * client made it and, under Workspace Protection, the device's proof ({@link ClientAuth}). IK
 * encrypts and authenticates it under {@code es} and {@code ss}, so the relay never sees it and a
 * replayer cannot change it; the daemon refuses a message 1 whose time is outside {@link #SKEW} of
 * its clock, so a message 1 replayed after the replay memory forgot it is stale. Canonical JSON:
 *
 * <pre>
 * {"time":&lt;unix ms&gt;,"type":"umbra-relay-client-auth/v2"}
 * {"credential":{"payload","signature"},"static_key_signature":hex,"time":&lt;unix ms&gt;,"type":"umbra-relay-client-auth/v2"}
 * </pre>
 *
 * Every wire constant of message 1 is here: the type strings, the size bound and the skew.
 *
 * @param timeMillis when the client made message 1 (unix milliseconds, its clock)
 * @param proof the device's proof under Workspace Protection; empty otherwise
 */
public record HandshakePayload(long timeMillis, Optional<DeviceProof> proof) {
  /** The payload's type. */
  public static final String TYPE = "umbra-relay-client-auth/v2";

  /** The type of the payload before it carried a time (refused: the client must be updated). */
  public static final String V1_TYPE = "umbra-relay-client-auth/v1";

  /** The type of what the device signs to bind its Noise static key ({@link ClientAuth}). */
  public static final String STATIC_TYPE = "umbra-relay-client-static/v1";

  /** Largest payload accepted (a credential is at most 4096 characters). */
  public static final int MAX_BYTES = 16_384;

  /**
   * How far message 1's time may be from the daemon's clock, either way. At most half the replay
   * memory's window (HandshakeReplayTest checks it), so that a replay the memory no longer holds is
   * stale: docs/relay.md, "Replayed handshakes".
   */
  public static final Duration SKEW = Duration.ofMinutes(5);

  private static final String TIME = "time";
  private static final String CREDENTIAL = "credential";
  private static final String STATIC_KEY_SIGNATURE = "static_key_signature";
  private static final Set<String> WITHOUT_PROOF = Set.of("type", TIME);
  private static final Set<String> WITH_PROOF =
      Set.of("type", TIME, CREDENTIAL, STATIC_KEY_SIGNATURE);
  private static final HexFormat HEX = HexFormat.of();

  public HandshakePayload {
    proof = proof == null ? Optional.empty() : proof;
  }

  /** Message 1's payload made now ({@code nowMillis}), with the device's {@code proof} if any. */
  public static HandshakePayload at(long nowMillis, Optional<DeviceProof> proof) {
    return new HandshakePayload(nowMillis, proof);
  }

  /**
   * A device's proof (Workspace Protection): its workspace-signed {@code credential} and its
   * Ed25519 {@code staticKeySignature} (64 bytes) over the binding of the channel's Noise static
   * key.
   */
  public record DeviceProof(Signed credential, byte[] staticKeySignature) {
    public DeviceProof {
      if (credential == null || staticKeySignature == null || staticKeySignature.length != 64) {
        throw new IllegalArgumentException(
            "a device proof needs a credential and a 64-byte signature");
      }
      staticKeySignature = staticKeySignature.clone();
    }

    @Override
    public byte[] staticKeySignature() {
      return staticKeySignature.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof DeviceProof p
          && credential.equals(p.credential)
          && Arrays.equals(staticKeySignature, p.staticKeySignature);
    }

    @Override
    public int hashCode() {
      return credential.hashCode() * 31 + Arrays.hashCode(staticKeySignature);
    }

    @Override
    public String toString() {
      return "DeviceProof[...]";
    }
  }

  /** Why a message 1 payload was refused: the reason the daemon's CLOSE carries. */
  public static final class RefusedException extends Exception {
    private final ChannelReason reason;

    public RefusedException(ChannelReason reason, String message) {
      super(message, null, false, false);
      this.reason = reason;
    }

    public ChannelReason reason() {
      return reason;
    }
  }

  /** The canonical JSON bytes (what goes into Noise message 1). */
  public byte[] encode() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("type", TYPE);
    m.put(TIME, timeMillis);
    proof.ifPresent(
        p -> {
          Map<String, Object> cred = new LinkedHashMap<>();
          cred.put("payload", p.credential().payload());
          cred.put("signature", HEX.formatHex(p.credential().signature()));
          m.put(CREDENTIAL, cred);
          m.put(STATIC_KEY_SIGNATURE, HEX.formatHex(p.staticKeySignature()));
        });
    return CanonicalJson.encode(m);
  }

  /**
   * What the daemon reads from message 1 at {@code nowMillis}: {@link #parse} then {@link
   * #checkTime}.
   */
  public static HandshakePayload read(byte[] payload, long nowMillis) throws RefusedException {
    return parse(payload).checkTime(nowMillis);
  }

  /**
   * This payload unless its time is more than {@link #SKEW} from {@code nowMillis}: older is {@code
   * handshake_stale}, later {@code handshake_future}.
   */
  public HandshakePayload checkTime(long nowMillis) throws RefusedException {
    long skew = SKEW.toMillis();
    if (timeMillis < nowMillis - skew) {
      throw new RefusedException(
          ChannelReason.CHANNEL_REASON_HANDSHAKE_STALE, "message 1 is older than the skew window");
    }
    if (timeMillis > nowMillis + skew) {
      throw new RefusedException(
          ChannelReason.CHANNEL_REASON_HANDSHAKE_FUTURE, "message 1 is from the future");
    }
    return this;
  }

  /**
   * Parses a message 1 payload from outside (bounded, strict, never trusting): exactly the
   * canonical JSON of a {@link #TYPE} with an integer {@code time}, and either both proof members
   * or neither. An empty payload, a {@link #V1_TYPE} or a payload without an integer time is {@code
   * handshake_time_missing} (a client older than the daemon); anything else that is not such a
   * payload is {@code malformed_message}. Throws nothing else.
   */
  public static HandshakePayload parse(byte[] payload) throws RefusedException {
    if (payload == null || payload.length == 0) {
      throw timeMissing();
    }
    if (payload.length > MAX_BYTES) {
      throw malformed("longer than " + MAX_BYTES + " bytes");
    }
    Object parsed;
    try {
      parsed = CanonicalJson.parse(payload);
      if (!Arrays.equals(CanonicalJson.encode(parsed), payload)) {
        throw malformed("not canonical JSON");
      }
    } catch (RuntimeException e) {
      throw malformed("not canonical JSON"); // whatever the parser says about bytes from outside
    }
    if (!(parsed instanceof Map<?, ?> m)) {
      throw malformed("not a JSON object");
    }
    if (V1_TYPE.equals(m.get("type"))) {
      throw timeMissing();
    }
    if (!TYPE.equals(m.get("type"))) {
      throw malformed("not a " + TYPE);
    }
    if (!(m.get(TIME) instanceof Long time)) {
      throw timeMissing();
    }
    if (m.keySet().equals(WITHOUT_PROOF)) {
      return new HandshakePayload(time, Optional.empty());
    }
    if (!m.keySet().equals(WITH_PROOF)
        || !(m.get(CREDENTIAL) instanceof Map<?, ?> c)
        || c.size() != 2
        || !(c.get("payload") instanceof String p)
        || !(c.get("signature") instanceof String s)
        || !(m.get(STATIC_KEY_SIGNATURE) instanceof String ss)) {
      throw malformed("unknown or missing members");
    }
    try {
      return new HandshakePayload(
          time, Optional.of(new DeviceProof(new Signed(p, HEX.parseHex(s)), HEX.parseHex(ss))));
    } catch (RuntimeException e) {
      throw malformed("a malformed device proof");
    }
  }

  private static RefusedException timeMissing() {
    return new RefusedException(
        ChannelReason.CHANNEL_REASON_HANDSHAKE_TIME_MISSING,
        "message 1 carries no time: the client is older than the machine's daemon");
  }

  private static RefusedException malformed(String what) {
    return new RefusedException(
        ChannelReason.CHANNEL_REASON_MALFORMED_MESSAGE, "message 1's payload: " + what);
  }
}
