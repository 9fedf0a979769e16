package dev.umbra.crypto.webtty;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The daemon's signed start of a new output-key epoch (docs/webtty.md "Adding a recipient to a live
 * session"): recipients were added to a live session ({@code umbra tty share}), and because the key
 * context (which enters every payload's AAD) fixes the recipients, adding one needs a fresh output
 * key under a new key context. Mirrors {@link InputKeyGrant}. Canonical JSON (DESIGN.md §7),
 * Ed25519-signed by the machine's binding key, exactly:
 *
 * <pre>
 * {"type":"umbra-webtty-output-key/v2","workspace_id":..,"server_id":..,"session_id":..,
 *  "epoch":n, "output_key_id":hex16, "previous_output_key_id":hex16,
 *  "key_context":{"recipients":[hex16..],"server_id":..,"session_id":..,"workspace_id":..},
 *  "payload_suite":"aes-256-gcm","key_envelope_suite":"hpke-x25519-hkdf-sha256-aes-256-gcm",
 *  "grants":[{"recipient_key_id":hex16,"enc":hex32,"ciphertext":hex48}, ...], "time_ms":n}
 * </pre>
 *
 * {@code epoch} starts at 1 (epoch 0 is the opener's output key from the ClientProof) and grows by
 * one per share; {@code grants} are output-role {@link KeyGrant}s bound to <i>this</i> key context,
 * exactly one per recipient it lists (so every recipient, old and new, gets the new key).
 * Verification uses the <b>pinned</b> server key, never one the document names.
 */
public record OutputKeyEpoch(
    String workspaceId,
    String serverId,
    String sessionId,
    long epoch,
    PayloadKeyId outputKeyId,
    PayloadKeyId previousOutputKeyId,
    KeyContext keyContext,
    List<KeyGrant> grants,
    long timeMs) {
  /** Most grants one document may carry (the engine's MAX_GRANTS). */
  public static final int MAX_GRANTS = 64;

  /** Most output-key epochs in one session (each share is one). */
  public static final long MAX_EPOCH = 256;

  private static final String WHAT = "WebTTY output key epoch";
  private static final Set<String> MEMBERS =
      Set.of(
          "type",
          "workspace_id",
          "server_id",
          "session_id",
          "epoch",
          "output_key_id",
          "previous_output_key_id",
          "key_context",
          "payload_suite",
          "key_envelope_suite",
          "grants",
          "time_ms");
  private static final Set<String> CONTEXT_MEMBERS =
      Set.of("recipients", "server_id", "session_id", "workspace_id");

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

  /** Why a verified document is not the next epoch of this session (the client's refusal). */
  public enum Mismatch {
    /** workspace, server or session is not this session's */
    WRONG_SESSION,
    /** epoch is not exactly the last accepted one plus one (a replay or a rollback, or a skip) */
    NOT_NEXT_EPOCH,
    /** previous_output_key_id is not the key this receiver holds */
    WRONG_PREVIOUS_KEY,
    /** the new context drops a recipient of the previous one (a share only adds) */
    RECIPIENT_DROPPED
  }

  /** A signed document that is authentic but is not the next epoch of the receiver's session. */
  public static final class NotNextException extends dev.umbra.crypto.CryptoException {
    private final Mismatch mismatch;

    public NotNextException(Mismatch mismatch) {
      super("WebTTY output key epoch refused: " + mismatch.name().toLowerCase(Locale.ROOT));
      this.mismatch = mismatch;
    }

    public Mismatch mismatch() {
      return mismatch;
    }
  }

  public OutputKeyEpoch {
    for (String s : new String[] {workspaceId, serverId, sessionId}) {
      if (s == null || s.isEmpty()) {
        throw new MalformedInputException("WebTTY output key epoch lacks an id");
      }
    }
    Objects.requireNonNull(outputKeyId, "outputKeyId");
    Objects.requireNonNull(previousOutputKeyId, "previousOutputKeyId");
    Objects.requireNonNull(keyContext, "keyContext");
    if (epoch < 1 || epoch > MAX_EPOCH) {
      throw new MalformedInputException("WebTTY output key epoch must be 1.." + MAX_EPOCH);
    }
    if (outputKeyId.equals(previousOutputKeyId)) {
      throw new MalformedInputException("WebTTY output key epoch must name a fresh output key");
    }
    if (!keyContext.workspaceId().equals(workspaceId)
        || !keyContext.serverId().equals(serverId)
        || !keyContext.sessionId().equals(sessionId)) {
      throw new MalformedInputException(
          "WebTTY output key epoch key context names another session");
    }
    if (grants == null || grants.isEmpty() || grants.size() > MAX_GRANTS) {
      throw new MalformedInputException(
          "WebTTY output key epoch needs 1.." + MAX_GRANTS + " grants");
    }
    Set<KeyId> granted = new HashSet<>();
    for (KeyGrant g : grants) {
      if (g.role() != KeyRole.OUTPUT || !g.payloadKeyId().equals(outputKeyId)) {
        throw new MalformedInputException("WebTTY output key epoch carries a grant of another key");
      }
      if (!granted.add(g.recipientKeyId())) {
        throw new MalformedInputException("WebTTY output key epoch grants one recipient twice");
      }
    }
    if (!granted.equals(new HashSet<>(keyContext.recipients()))) {
      throw new MalformedInputException(
          "WebTTY output key epoch must grant exactly the recipients of its key context");
    }
    grants = List.copyOf(grants);
  }

  /** The canonical JSON value (before encoding) that is signed. */
  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("type", CryptoConstants.WEBTTY_OUTPUT_KEY_EPOCH_TYPE);
    m.put("workspace_id", workspaceId);
    m.put("server_id", serverId);
    m.put("session_id", sessionId);
    m.put("epoch", epoch);
    m.put("output_key_id", outputKeyId.toHex());
    m.put("previous_output_key_id", previousOutputKeyId.toHex());
    m.put("key_context", CanonicalJson.parse(keyContext.toCanonicalJson()));
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
   * Parses and verifies a signed document against the pinned server key: bounded (16 KiB), the
   * signature first (AuthenticationFailedException), then canonical bytes with exactly the members
   * above (MalformedInputException / UnsupportedSuiteException).
   */
  public static OutputKeyEpoch verify(
      byte[] canonicalJson, byte[] signature, Ed25519PublicKey pinnedServerKey) {
    // the signature first: nothing of an unsigned document is interpreted
    SignedKeyDocuments.checkSignature(canonicalJson, signature, pinnedServerKey, WHAT);
    return parse(canonicalJson);
  }

  /**
   * {@link #verify} and then the receiver's continuity rule: the document names this session, its
   * epoch is exactly {@code lastEpoch + 1} (a replayed or rolled-back document is refused, and so
   * is a skipped one: every recipient must have seen each key), it retires exactly the output key
   * the receiver holds, and its context keeps every previous recipient.
   */
  public static OutputKeyEpoch verifyNext(
      byte[] canonicalJson,
      byte[] signature,
      Ed25519PublicKey pinnedServerKey,
      KeyContext current,
      long lastEpoch,
      PayloadKeyId currentOutputKeyId) {
    OutputKeyEpoch e = verify(canonicalJson, signature, pinnedServerKey);
    e.requireNextOf(current, lastEpoch, currentOutputKeyId);
    return e;
  }

  /** The continuity rule of {@link #verifyNext} on an already verified document. */
  public void requireNextOf(KeyContext current, long lastEpoch, PayloadKeyId currentOutputKeyId) {
    if (!workspaceId.equals(current.workspaceId())
        || !serverId.equals(current.serverId())
        || !sessionId.equals(current.sessionId())) {
      throw new NotNextException(Mismatch.WRONG_SESSION);
    }
    if (epoch != lastEpoch + 1) {
      throw new NotNextException(Mismatch.NOT_NEXT_EPOCH);
    }
    if (!previousOutputKeyId.equals(currentOutputKeyId)) {
      throw new NotNextException(Mismatch.WRONG_PREVIOUS_KEY);
    }
    if (!keyContext.recipients().containsAll(current.recipients())) {
      throw new NotNextException(Mismatch.RECIPIENT_DROPPED);
    }
  }

  /** Parses the canonical bytes without a signature check (for fuzzing and the verifier above). */
  @SuppressWarnings("unchecked")
  static OutputKeyEpoch parse(byte[] canonicalJson) {
    Object parsed = CanonicalJson.parse(canonicalJson);
    if (!(parsed instanceof Map<?, ?> raw)
        || !Arrays.equals(CanonicalJson.encode(parsed), canonicalJson)) {
      throw new MalformedInputException("WebTTY output key epoch is not canonical JSON");
    }
    Map<String, Object> j = (Map<String, Object>) raw;
    if (!j.keySet().equals(MEMBERS)) {
      throw new MalformedInputException(
          "WebTTY output key epoch must have exactly the members " + MEMBERS);
    }
    if (!CryptoConstants.WEBTTY_OUTPUT_KEY_EPOCH_TYPE.equals(j.get("type"))) {
      throw new MalformedInputException("not a WebTTY output key epoch");
    }
    PayloadSuite suite = PayloadSuite.fromWireName(str(j, "payload_suite"));
    KeyEnvelopeSuite envelope = KeyEnvelopeSuite.fromWireName(str(j, "key_envelope_suite"));
    PayloadKeyId outputKeyId = PayloadKeyId.fromBytes(hex(j, "output_key_id"));
    if (!(j.get("key_context") instanceof Map<?, ?> cm)
        || !cm.keySet().equals(CONTEXT_MEMBERS)
        || !(cm.get("recipients") instanceof List<?> rl)
        || rl.size() > MAX_GRANTS) {
      throw new MalformedInputException(
          "WebTTY output key epoch key_context must have exactly " + CONTEXT_MEMBERS);
    }
    Map<String, Object> c = (Map<String, Object>) cm;
    List<KeyId> recipients = new ArrayList<>();
    for (Object o : rl) {
      if (!(o instanceof String s) || !s.equals(s.toLowerCase(Locale.ROOT))) {
        throw new MalformedInputException(
            "WebTTY output key epoch recipient must be lowercase hex");
      }
      recipients.add(KeyId.fromBytes(SignedKeyDocuments.lowerHex(s, "recipient", WHAT)));
    }
    KeyContext context =
        new KeyContext(
            str(c, "workspace_id"), str(c, "server_id"), str(c, "session_id"), recipients);
    if (!Arrays.equals(CanonicalJson.encode(c), context.toCanonicalJson())) {
      // recipients not sorted: the bytes entering the AAD must be the ones signed
      throw new MalformedInputException(
          "WebTTY output key epoch key_context is not in its canonical order");
    }
    List<KeyGrant> grants =
        SignedKeyDocuments.parseGrants(
            j.get("grants"), MAX_GRANTS, KeyRole.OUTPUT, suite, envelope, outputKeyId, WHAT);
    return new OutputKeyEpoch(
        str(j, "workspace_id"),
        str(j, "server_id"),
        str(j, "session_id"),
        num(j, "epoch"),
        outputKeyId,
        PayloadKeyId.fromBytes(hex(j, "previous_output_key_id")),
        context,
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
