package dev.umbra.crypto.webtty;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.Ed25519PublicKey;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The daemon's signed grant of a fresh input key to a new controller (v2, docs/webtty.md
 * "Control handover"). Its canonical JSON (DESIGN.md §7), Ed25519-signed by the machine's binding
 * key, is exactly:
 * <pre>
 * {"type":"umbra-webtty-input-key/v2","workspace_id":..,"server_id":..,"session_id":..,
 *  "epoch":n, "controller_key_id":hex16, "input_key_id":hex16, "output_key_id":hex16,
 *  "payload_suite":"aes-256-gcm","key_envelope_suite":"hpke-x25519-hkdf-sha256-aes-256-gcm",
 *  "grants":[{"recipient_key_id":hex16,"enc":hex32,"ciphertext":hex48}, ...], "time_ms":n}
 * </pre>
 * (keys sorted by the canonical form). {@code epoch} starts at 1 for the first handover (epoch 0
 * is the opener's input key from the ClientProof) and grows by one per grant; {@code grants} are
 * input-role {@link KeyGrant}s (HPKE, bound to the session's key context) for the controller and
 * for the daemon's own key, so the daemon's side can read stdin in recordings. Verification uses
 * the <b>pinned</b> server key given by the caller, never a key the document names, and refuses
 * any other member, a missing one, or a non-canonical encoding.
 */
public record InputKeyGrant(String workspaceId, String serverId, String sessionId, long epoch, KeyId controllerKeyId,
                            PayloadKeyId inputKeyId, PayloadKeyId outputKeyId, List<KeyGrant> grants, long timeMs) {
    /** Most grants one document may carry (the engine's MAX_GRANTS). */
    public static final int MAX_GRANTS = 64;
    private static final HexFormat HEX = HexFormat.of();
    private static final Set<String> MEMBERS = Set.of("type", "workspace_id", "server_id", "session_id", "epoch",
            "controller_key_id", "input_key_id", "output_key_id", "payload_suite", "key_envelope_suite", "grants",
            "time_ms");
    private static final Set<String> GRANT_MEMBERS = Set.of("recipient_key_id", "enc", "ciphertext");

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
        if (epoch < 1) {
            throw new MalformedInputException("WebTTY input key grant epoch must be at least 1");
        }
        if (grants == null || grants.isEmpty() || grants.size() > MAX_GRANTS) {
            throw new MalformedInputException("WebTTY input key grant needs 1.." + MAX_GRANTS + " grants");
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
        List<Object> gs = new ArrayList<>();
        for (KeyGrant g : grants) {
            Map<String, Object> gm = new LinkedHashMap<>();
            gm.put("recipient_key_id", g.recipientKeyId().toHex());
            gm.put("enc", HEX.formatHex(g.enc()));
            gm.put("ciphertext", HEX.formatHex(g.ciphertext()));
            gs.add(gm);
        }
        m.put("grants", gs);
        m.put("time_ms", timeMs);
        return m;
    }

    /** The grant addressed to {@code id}, or null. */
    public KeyGrant grantFor(KeyId id) {
        for (KeyGrant g : grants) {
            if (g.recipientKeyId().equals(id)) {
                return g;
            }
        }
        return null;
    }

    public Signed sign(Ed25519KeyPair serverKey) {
        byte[] bytes = CanonicalJson.encode(toJson());
        return new Signed(bytes, serverKey.privateKey().sign(bytes));
    }

    /**
     * Parses and verifies a signed input key grant against the pinned server key: the bytes must
     * be canonical, carry exactly the members above with our suites and type, and the signature
     * must verify (AuthenticationFailedException otherwise; MalformedInputException /
     * UnsupportedSuiteException for the shape). Bounded: at most 16 KiB of JSON.
     */
    public static InputKeyGrant verify(byte[] canonicalJson, byte[] signature, Ed25519PublicKey pinnedServerKey) {
        if (canonicalJson == null || canonicalJson.length == 0 || canonicalJson.length > 16 * 1024) {
            throw new MalformedInputException("WebTTY input key grant is empty or larger than 16 KiB");
        }
        if (signature == null || signature.length != CryptoConstants.ED25519_SIGNATURE_LENGTH) {
            throw new MalformedInputException("WebTTY input key grant signature must be 64 bytes");
        }
        // the signature first: nothing of an unsigned document is interpreted
        pinnedServerKey.verify(canonicalJson, signature);
        return parse(canonicalJson);
    }

    /** Parses the canonical bytes without a signature check (for fuzzing and the verifier above). */
    @SuppressWarnings("unchecked")
    static InputKeyGrant parse(byte[] canonicalJson) {
        Object parsed = CanonicalJson.parse(canonicalJson);
        if (!(parsed instanceof Map<?, ?> raw) || !Arrays.equals(CanonicalJson.encode(parsed), canonicalJson)) {
            throw new MalformedInputException("WebTTY input key grant is not canonical JSON");
        }
        Map<String, Object> j = (Map<String, Object>) raw;
        if (!j.keySet().equals(MEMBERS)) {
            throw new MalformedInputException("WebTTY input key grant must have exactly the members " + MEMBERS);
        }
        if (!CryptoConstants.WEBTTY_INPUT_KEY_GRANT_TYPE.equals(j.get("type"))) {
            throw new MalformedInputException("not a WebTTY input key grant");
        }
        PayloadSuite suite = PayloadSuite.fromWireName(str(j, "payload_suite"));
        KeyEnvelopeSuite envelope = KeyEnvelopeSuite.fromWireName(str(j, "key_envelope_suite"));
        PayloadKeyId inputKeyId = PayloadKeyId.fromBytes(hex(j, "input_key_id"));
        if (!(j.get("grants") instanceof List<?> gl) || gl.size() > MAX_GRANTS) {
            throw new MalformedInputException("WebTTY input key grant lacks grants");
        }
        List<KeyGrant> grants = new ArrayList<>();
        for (Object o : gl) {
            if (!(o instanceof Map<?, ?> gm) || !gm.keySet().equals(GRANT_MEMBERS)) {
                throw new MalformedInputException("WebTTY input key grant entry must have exactly " + GRANT_MEMBERS);
            }
            Map<String, Object> g = (Map<String, Object>) gm;
            byte[] enc = hex(g, "enc");
            byte[] ct = hex(g, "ciphertext");
            if (enc.length != CryptoConstants.X25519_KEY_LENGTH
                    || ct.length != CryptoConstants.AES_256_KEY_LENGTH + CryptoConstants.AEAD_TAG_LENGTH) {
                throw new MalformedInputException("WebTTY input key grant entry has a bad enc or ciphertext length");
            }
            grants.add(new KeyGrant(KeyId.fromBytes(hex(g, "recipient_key_id")), KeyRole.INPUT, suite, envelope,
                    inputKeyId, enc, ct));
        }
        return new InputKeyGrant(str(j, "workspace_id"), str(j, "server_id"), str(j, "session_id"), num(j, "epoch"),
                KeyId.fromBytes(hex(j, "controller_key_id")), inputKeyId,
                PayloadKeyId.fromBytes(hex(j, "output_key_id")), grants, num(j, "time_ms"));
    }

    private static String str(Map<String, Object> m, String k) {
        if (!(m.get(k) instanceof String s)) {
            throw new MalformedInputException("WebTTY input key grant lacks " + k);
        }
        return s;
    }

    private static long num(Map<String, Object> m, String k) {
        if (!(m.get(k) instanceof Long l)) {
            throw new MalformedInputException("WebTTY input key grant lacks " + k);
        }
        return l;
    }

    private static byte[] hex(Map<String, Object> m, String k) {
        String s = str(m, k);
        if (!s.equals(s.toLowerCase(java.util.Locale.ROOT))) {
            throw new MalformedInputException("WebTTY input key grant " + k + " must be lowercase hex");
        }
        try {
            return HEX.parseHex(s);
        } catch (IllegalArgumentException e) {
            throw new MalformedInputException("WebTTY input key grant has a bad " + k);
        }
    }
}
