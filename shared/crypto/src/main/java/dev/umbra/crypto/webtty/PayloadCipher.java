package dev.umbra.crypto.webtty;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.InvalidStateException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.internal.JceAead;
import dev.umbra.crypto.secret.SecureRandoms;

import java.nio.ByteBuffer;
import java.util.EnumMap;
import java.util.Map;

/**
 * WebTTY payload encryption for one session (DESIGN.md §5): AES-256-GCM under the payload key,
 * a fresh random 96-bit nonce per payload, and
 * <pre>
 * aad = lp("umbra-webtty-payload/v1") lp(stream) lp(payload_suite) lp(payload_key_id) lp(key_context) lp(nonce) u64be(plaintext_length)
 * </pre>
 * The constant AAD prefix is computed once per stream. Not thread-safe: use one instance per
 * thread (instances are cheap).
 */
public final class PayloadCipher {
    private final PayloadKeyId keyId;
    private final KeyContext context;
    private final JceAead aead;
    private final Map<Stream, byte[]> prefixes = new EnumMap<>(Stream.class);

    public PayloadCipher(PayloadKey key, PayloadKeyId keyId, KeyContext context) {
        this.keyId = keyId;
        this.context = context;
        this.aead = new JceAead(JceAead.Algorithm.AES_GCM, key.view());
        byte[] contextJson = context.toCanonicalJson();
        for (Stream s : Stream.values()) {
            prefixes.put(s, Bytes.lengthPrefixed(Bytes.utf8(CryptoConstants.WEBTTY_PAYLOAD_DOMAIN), Bytes.utf8(s.wireName()),
                    Bytes.utf8(PayloadSuite.AES_256_GCM.wireName()), keyId.toBytes(), contextJson));
        }
    }

    public PayloadKeyId keyId() {
        return keyId;
    }

    public KeyContext context() {
        return context;
    }

    /** The exact AAD of a payload (exposed for conformance vectors and third-party checks). */
    public byte[] aad(Stream stream, byte[] nonce, long plaintextLength) {
        byte[] prefix = prefixes.get(stream);
        ByteBuffer aad = ByteBuffer.allocate(prefix.length + 4 + nonce.length + 8); // big-endian
        return aad.put(prefix).putInt(nonce.length).put(nonce).putLong(plaintextLength).array();
    }

    public SealedPayload seal(Stream stream, byte[] plaintext) {
        byte[] nonce = SecureRandoms.bytes(CryptoConstants.GCM_NONCE_LENGTH);
        return new SealedPayload(stream, PayloadSuite.AES_256_GCM, keyId, nonce,
                aead.seal(nonce, aad(stream, nonce, plaintext.length), plaintext), plaintext.length);
    }

    /**
     * INSECURE outside conformance vectors: seals with a caller-chosen nonce. A repeated nonce under
     * one key breaks AES-GCM; the JCE refuses an immediate repeat on the same instance.
     */
    public SealedPayload insecureSealWithNonce(Stream stream, byte[] nonce, byte[] plaintext) {
        byte[] n = Bytes.checkedCopy(nonce, CryptoConstants.GCM_NONCE_LENGTH, "WebTTY payload nonce");
        byte[] ct = aead.seal(n, aad(stream, n, plaintext.length), plaintext);
        return new SealedPayload(stream, PayloadSuite.AES_256_GCM, keyId, n, ct, plaintext.length);
    }

    /**
     * Opens a payload. Checks, in order: suite and payload key id match this session, nonce
     * length, ciphertext length = plaintext length + 16, then the tag over the exact AAD (so a
     * payload sealed for another stream, context or length fails).
     */
    public byte[] open(SealedPayload payload) {
        if (payload.suite() != PayloadSuite.AES_256_GCM) {
            throw new InvalidStateException("WebTTY payload suite " + payload.suite().wireName() + " is not this session's");
        }
        if (!payload.payloadKeyId().equals(keyId)) {
            throw new InvalidStateException("WebTTY payload is for payload key " + payload.payloadKeyId().toHex()
                    + ", this session's is " + keyId.toHex());
        }
        byte[] nonce = payload.nonceView();
        if (nonce.length != CryptoConstants.GCM_NONCE_LENGTH) {
            throw new MalformedInputException("WebTTY payload nonce must be 12 bytes, got " + nonce.length);
        }
        byte[] ct = payload.ciphertextView();
        if (ct.length != payload.plaintextLength() + CryptoConstants.AEAD_TAG_LENGTH) {
            throw new MalformedInputException("WebTTY payload ciphertext is " + ct.length + " bytes but the frame says "
                    + payload.plaintextLength() + " plaintext bytes (+16 tag)");
        }
        return aead.open(nonce, aad(payload.stream(), nonce, payload.plaintextLength()), ct);
    }
}
