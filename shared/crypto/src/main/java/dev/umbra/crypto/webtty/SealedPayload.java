package dev.umbra.crypto.webtty;

import dev.umbra.crypto.MalformedInputException;

import java.util.Objects;

/**
 * One encrypted WebTTY payload as carried in a frame: stream, suite, payload key id, the 12-byte
 * nonce, {@code ct || tag}, and the plaintext length (visible frame metadata, bound into the AAD).
 *
 * <p>On the hot path of every terminal frame, so the record takes ownership of the arrays given
 * to its constructor (no copy: do not modify them afterwards); its accessors return copies.
 */
public record SealedPayload(Stream stream, PayloadSuite suite, PayloadKeyId payloadKeyId, byte[] nonce,
                            byte[] ciphertext, long plaintextLength) {
    public SealedPayload {
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(suite, "suite");
        Objects.requireNonNull(payloadKeyId, "payloadKeyId");
        if (nonce == null || ciphertext == null) {
            throw new MalformedInputException("sealed WebTTY payload needs nonce and ciphertext");
        }
        if (plaintextLength < 0) {
            throw new MalformedInputException("negative WebTTY plaintext length");
        }
    }

    /** Builds from wire strings; unknown suite or stream strings are rejected. */
    public static SealedPayload fromWire(String stream, String suite, byte[] payloadKeyId, byte[] nonce,
                                         byte[] ciphertext, long plaintextLength) {
        return new SealedPayload(Stream.fromWireName(stream), PayloadSuite.fromWireName(suite),
                PayloadKeyId.fromBytes(payloadKeyId), nonce, ciphertext, plaintextLength);
    }

    /** The internal arrays, for PayloadCipher's hot path only (no copies); never modified there. */
    byte[] nonceView() {
        return nonce;
    }

    byte[] ciphertextView() {
        return ciphertext;
    }

    @Override
    public byte[] nonce() {
        return nonce.clone();
    }

    @Override
    public byte[] ciphertext() {
        return ciphertext.clone();
    }
}
