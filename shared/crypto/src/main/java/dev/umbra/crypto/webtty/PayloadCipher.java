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
 * WebTTY payload encryption v2 for one key of one session (DESIGN.md §5, docs/webtty.md):
 * AES-256-GCM under the output or the input key, a fresh random 96-bit nonce per payload, and
 *
 * <pre>
 * aad = lp("umbra-webtty-payload/v2") lp(key_role) lp(stream) lp(payload_suite) lp(payload_key_id)
 *       lp(key_context) lp(sender_key_id) u64be(counter) lp(nonce) u64be(plaintext_length)
 * </pre>
 *
 * The counter is the sender's, per key (from 0, +1 per payload): opening checks only the tag;
 * whether a counter is the next one is the receiver's {@link PayloadCounters}. The constant AAD
 * prefix is computed once per stream. Not thread-safe: use one instance per thread (cheap).
 */
public final class PayloadCipher {
  private final KeyRole role;
  private final PayloadKeyId keyId;
  private final KeyContext context;
  private final JceAead aead;
  private final Map<Stream, byte[]> prefixes = new EnumMap<>(Stream.class);

  public PayloadCipher(KeyRole role, PayloadKey key, PayloadKeyId keyId, KeyContext context) {
    this.role = java.util.Objects.requireNonNull(role, "role");
    this.keyId = keyId;
    this.context = context;
    this.aead = new JceAead(JceAead.Algorithm.AES_GCM, key.view());
    byte[] contextJson = context.toCanonicalJson();
    for (Stream s : Stream.values()) {
      if (s.role() == role) {
        prefixes.put(
            s,
            Bytes.lengthPrefixed(
                Bytes.utf8(CryptoConstants.WEBTTY_PAYLOAD_DOMAIN),
                Bytes.utf8(role.wireName()),
                Bytes.utf8(s.wireName()),
                Bytes.utf8(PayloadSuite.AES_256_GCM.wireName()),
                keyId.toBytes(),
                contextJson));
      }
    }
  }

  public KeyRole role() {
    return role;
  }

  public PayloadKeyId keyId() {
    return keyId;
  }

  public KeyContext context() {
    return context;
  }

  /** The exact AAD of a payload (exposed for conformance vectors and third-party checks). */
  public byte[] aad(Stream stream, KeyId sender, long counter, byte[] nonce, long plaintextLength) {
    byte[] prefix = prefixFor(stream);
    byte[] senderId = sender.toBytes();
    ByteBuffer aad =
        ByteBuffer.allocate(
            prefix.length + 4 + senderId.length + 8 + 4 + nonce.length + 8); // big-endian
    return aad.put(prefix)
        .putInt(senderId.length)
        .put(senderId)
        .putLong(counter)
        .putInt(nonce.length)
        .put(nonce)
        .putLong(plaintextLength)
        .array();
  }

  private byte[] prefixFor(Stream stream) {
    byte[] prefix = prefixes.get(stream);
    if (prefix == null) {
      throw new InvalidStateException(
          "WebTTY stream "
              + stream.wireName()
              + " is not sealed under the "
              + role.wireName()
              + " key");
    }
    return prefix;
  }

  /** Seals one payload as {@code sender} with its {@code counter} (see {@link PayloadSender}). */
  public SealedPayload seal(Stream stream, KeyId sender, long counter, byte[] plaintext) {
    byte[] nonce = SecureRandoms.bytes(CryptoConstants.GCM_NONCE_LENGTH);
    return sealWith(stream, sender, counter, nonce, plaintext);
  }

  /**
   * INSECURE outside conformance vectors: seals with a caller-chosen nonce. A repeated nonce under
   * one key breaks AES-GCM; the JCE refuses an immediate repeat on the same instance.
   */
  public SealedPayload insecureSealWithNonce(
      Stream stream, KeyId sender, long counter, byte[] nonce, byte[] plaintext) {
    return sealWith(
        stream,
        sender,
        counter,
        Bytes.checkedCopy(nonce, CryptoConstants.GCM_NONCE_LENGTH, "WebTTY payload nonce"),
        plaintext);
  }

  private SealedPayload sealWith(
      Stream stream, KeyId sender, long counter, byte[] nonce, byte[] plaintext) {
    if (counter < 0) {
      throw new InvalidStateException("WebTTY payload counter exhausted");
    }
    byte[] ct = aead.seal(nonce, aad(stream, sender, counter, nonce, plaintext.length), plaintext);
    return new SealedPayload(
        stream, PayloadSuite.AES_256_GCM, keyId, sender, counter, nonce, ct, plaintext.length);
  }

  /**
   * Seals {@code plaintext[offset, offset + length)} as {@code sender} with its {@code counter}
   * straight into {@code out} at {@code outOffset} ({@code length + 16} bytes: {@code ct || tag}),
   * for a sender that writes the frame around it (no ciphertext array of its own); returns the
   * fresh random nonce. The payload is the one {@link #seal} would make with that nonce.
   */
  public byte[] sealInto(
      Stream stream,
      KeyId sender,
      long counter,
      byte[] plaintext,
      int offset,
      int length,
      byte[] out,
      int outOffset) {
    if (counter < 0) {
      throw new InvalidStateException("WebTTY payload counter exhausted");
    }
    byte[] nonce = SecureRandoms.bytes(CryptoConstants.GCM_NONCE_LENGTH);
    aead.sealInto(
        nonce,
        aad(stream, sender, counter, nonce, length),
        plaintext,
        offset,
        length,
        out,
        outOffset);
    return nonce;
  }

  /**
   * Opens a payload. Checks, in order: the stream belongs to this key's role, suite and payload key
   * id are this key's, nonce length, ciphertext length = plaintext length + 16, then the tag over
   * the exact AAD (so a payload sealed for another role, stream, context, sender, counter or length
   * fails). Does not judge the counter's order: that is {@link PayloadCounters}.
   */
  public byte[] open(SealedPayload payload) {
    byte[] ct = payload.ciphertextView();
    return open(payload, ct, 0, ct.length);
  }

  /**
   * As {@link #open(SealedPayload)}, the ciphertext read from {@code ciphertext[offset, offset +
   * length)} — a view into the received frame, not a copy — instead of the payload's own (which is
   * ignored: the other fields are the payload's).
   */
  public byte[] open(SealedPayload payload, byte[] ciphertext, int offset, int length) {
    prefixFor(payload.stream()); // the stream must belong to this key's role
    if (payload.suite() != PayloadSuite.AES_256_GCM) {
      throw new InvalidStateException(
          "WebTTY payload suite " + payload.suite().wireName() + " is not this session's");
    }
    if (!payload.payloadKeyId().equals(keyId)) {
      throw new InvalidStateException(
          "WebTTY payload is for payload key "
              + payload.payloadKeyId().toHex()
              + ", this "
              + role.wireName()
              + " key is "
              + keyId.toHex());
    }
    byte[] nonce = payload.nonceView();
    if (nonce.length != CryptoConstants.GCM_NONCE_LENGTH) {
      throw new MalformedInputException(
          "WebTTY payload nonce must be 12 bytes, got " + nonce.length);
    }
    if (length != payload.plaintextLength() + CryptoConstants.AEAD_TAG_LENGTH) {
      throw new MalformedInputException(
          "WebTTY payload ciphertext is "
              + length
              + " bytes but the frame says "
              + payload.plaintextLength()
              + " plaintext bytes (+16 tag)");
    }
    return aead.open(
        nonce,
        aad(
            payload.stream(),
            payload.senderKeyId(),
            payload.counter(),
            nonce,
            payload.plaintextLength()),
        ciphertext,
        offset,
        length);
  }
}
