package dev.umbra.crypto.webtty;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The daemon's signed grant of a fresh input key to a new controller (v2, docs/webtty.md "Control
 * handover"). Its canonical JSON (DESIGN.md §7), Ed25519-signed by the machine's binding key, is
 * exactly:
 *
 * <pre>
 * {"type":"umbra-webtty-input-key/v2","workspace_id":..,"server_id":..,"session_id":..,
 *  "epoch":n, "controller_key_id":hex16, "input_key_id":hex16, "output_key_id":hex16,
 *  "payload_suite":"aes-256-gcm","key_envelope_suite":"hpke-x25519-hkdf-sha256-aes-256-gcm",
 *  "grants":[{"recipient_key_id":hex16,"enc":hex32,"ciphertext":hex48}, ...], "time_ms":n}
 * </pre>
 *
 * (keys sorted by the canonical form). {@code epoch} starts at 1 for the first handover and grows
 * by one per grant; {@code grants} are input-role {@link KeyGrant}s (HPKE, bound to the session's
 * key context) for the controller and for the daemon's own key, so the daemon's side can read stdin
 * in recordings, and for the reviewers the machine's signed policy names. Epoch 0 is the opener's
 * input key from the ClientProof: a grant of epoch 0 re-wraps exactly that key (its {@code
 * input_key_id}) for the opener, the daemon and the reviewers only, recorded for export and handed
 * to no participant. Verification uses the <b>pinned</b> server key given by the caller, never a
 * key the document names, and refuses any other member, a missing one, or a non-canonical encoding.
 */
public record InputKeyGrant(
    String workspaceId,
    String serverId,
    String sessionId,
    long epoch,
    KeyId controllerKeyId,
    PayloadKeyId inputKeyId,
    PayloadKeyId outputKeyId,
    List<KeyGrant> grants,
    long timeMs) {
  /** Most grants one document may carry (the engine's MAX_GRANTS). */
  public static final int MAX_GRANTS = 64;

  private static final String WHAT = "WebTTY input key grant";
  private static final Set<String> MEMBERS =
      Set.of(
          "type",
          "workspace_id",
          "server_id",
          "session_id",
          "epoch",
          "controller_key_id",
          "input_key_id",
          "output_key_id",
          "payload_suite",
          "key_envelope_suite",
          "grants",
          "time_ms");

  /** Canonical JSON bytes and the Ed25519 signature over exactly them. */
  public record Signed(byte[] canonicalJson, byte[] signature) {
    public Signed {
      canonicalJson = canonicalJson.clone();
      signature = signature.clone();
    }

    @Override
    public byte[] canonicalJson() {
      return canonicalJson.clone();
    }

    @Override
    public byte[] signature() {
      return signature.clone();
    }
  }

  public InputKeyGrant {
    for (String s : new String[] {workspaceId, serverId, sessionId}) {
      if (s == null || s.isEmpty()) {
        throw new MalformedInputException("WebTTY input key grant lacks an id");
      }
    }
    Objects.requireNonNull(controllerKeyId, "controllerKeyId");
    Objects.requireNonNull(inputKeyId, "inputKeyId");
    Objects.requireNonNull(outputKeyId, "outputKeyId");
    if (epoch < 0) {
      throw new MalformedInputException("WebTTY input key grant epoch must not be negative");
    }
    if (grants == null || grants.isEmpty() || grants.size() > MAX_GRANTS) {
      throw new MalformedInputException(
          "WebTTY input key grant needs 1.." + MAX_GRANTS + " grants");
    }
    boolean controllerGranted = false;
    for (KeyGrant g : grants) {
      if (g.role() != KeyRole.INPUT || !g.payloadKeyId().equals(inputKeyId)) {
        throw new MalformedInputException("WebTTY input key grant carries a grant of another key");
      }
      controllerGranted |= g.recipientKeyId().equals(controllerKeyId);
    }
    if (!controllerGranted) {
      throw new MalformedInputException("WebTTY input key grant has no grant for its controller");
    }
    grants = List.copyOf(grants);
  }

  /** The canonical JSON value (before encoding) that is signed. */
  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("type", CryptoConstants.WEBTTY_INPUT_KEY_GRANT_TYPE);
    m.put("workspace_id", workspaceId);
    m.put("server_id", serverId);
    m.put("session_id", sessionId);
    m.put("epoch", epoch);
    m.put("controller_key_id", controllerKeyId.toHex());
    m.put("input_key_id", inputKeyId.toHex());
    m.put("output_key_id", outputKeyId.toHex());
    m.put("payload_suite", PayloadSuite.AES_256_GCM.wireName());
    m.put("key_envelope_suite", KeyEnvelopeSuite.HPKE_X25519_HKDF_SHA256_AES_256_GCM.wireName());
    m.put("grants", SignedKeyDocuments.grantsJson(grants));
    m.put("time_ms", timeMs);
    return m;
  }

  /** The grant addressed to {@code id}, or null. */
  public KeyGrant grantFor(KeyId id) {
    return SignedKeyDocuments.grantFor(grants, id);
  }

  public Signed sign(Ed25519KeyPair serverKey) {
    byte[] bytes = CanonicalJson.encode(toJson());
    return new Signed(bytes, serverKey.privateKey().sign(bytes));
  }

  /**
   * Parses and verifies a signed input key grant against the pinned server key: the bytes must be
   * canonical, carry exactly the members above with our suites and type, and the signature must
   * verify (AuthenticationFailedException otherwise; MalformedInputException /
   * UnsupportedSuiteException for the shape). Bounded: at most 16 KiB of JSON.
   */
  public static InputKeyGrant verify(
      byte[] canonicalJson, byte[] signature, Ed25519PublicKey pinnedServerKey) {
    // the signature first: nothing of an unsigned document is interpreted
    SignedKeyDocuments.checkSignature(canonicalJson, signature, pinnedServerKey, WHAT);
    return parse(canonicalJson);
  }

  /** Parses the canonical bytes without a signature check (for fuzzing and the verifier above). */
  @SuppressWarnings("unchecked")
  static InputKeyGrant parse(byte[] canonicalJson) {
    Object parsed = CanonicalJson.parse(canonicalJson);
    if (!(parsed instanceof Map<?, ?> raw)
        || !Arrays.equals(CanonicalJson.encode(parsed), canonicalJson)) {
      throw new MalformedInputException("WebTTY input key grant is not canonical JSON");
    }
    Map<String, Object> j = (Map<String, Object>) raw;
    if (!j.keySet().equals(MEMBERS)) {
      throw new MalformedInputException(
          "WebTTY input key grant must have exactly the members " + MEMBERS);
    }
    if (!CryptoConstants.WEBTTY_INPUT_KEY_GRANT_TYPE.equals(j.get("type"))) {
      throw new MalformedInputException("not a WebTTY input key grant");
    }
    PayloadSuite suite = PayloadSuite.fromWireName(str(j, "payload_suite"));
    KeyEnvelopeSuite envelope = KeyEnvelopeSuite.fromWireName(str(j, "key_envelope_suite"));
    PayloadKeyId inputKeyId = PayloadKeyId.fromBytes(hex(j, "input_key_id"));
    List<KeyGrant> grants =
        SignedKeyDocuments.parseGrants(
            j.get("grants"), MAX_GRANTS, KeyRole.INPUT, suite, envelope, inputKeyId, WHAT);
    return new InputKeyGrant(
        str(j, "workspace_id"),
        str(j, "server_id"),
        str(j, "session_id"),
        num(j, "epoch"),
        KeyId.fromBytes(hex(j, "controller_key_id")),
        inputKeyId,
        PayloadKeyId.fromBytes(hex(j, "output_key_id")),
        grants,
        num(j, "time_ms"));
  }

  private static String str(Map<String, Object> m, String k) {
    return SignedKeyDocuments.str(m, k, WHAT);
  }

  private static long num(Map<String, Object> m, String k) {
    return SignedKeyDocuments.num(m, k, WHAT);
  }

  private static byte[] hex(Map<String, Object> m, String k) {
    return SignedKeyDocuments.hex(m, k, WHAT);
  }
}
