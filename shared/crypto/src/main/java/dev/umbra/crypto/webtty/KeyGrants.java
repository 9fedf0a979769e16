package dev.umbra.crypto.webtty;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.InvalidStateException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.hpke.Hpke;
import dev.umbra.crypto.hpke.HpkeContext;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Wrapping a WebTTY payload key (output or input) for recipients with HPKE (DESIGN.md §5, v2):
 *
 * <pre>
 * info = lp("umbra-webtty-key/v2") lp(key_role) lp(payload_suite) lp(key_envelope_suite) lp(payload_key_id) lp(key_context)
 * aad  = lp("umbra-webtty-key/v2") lp(recipient_key_id) lp(key_role) lp(payload_suite) lp(key_envelope_suite) lp(payload_key_id) lp(key_context)
 * </pre>
 *
 * Ids are their raw 16 bytes; role and suites their wire strings; key_context its canonical JSON.
 * An input-key grant cannot be presented as an output-key grant (or back): the role is bound.
 */
public final class KeyGrants {
  private static final Hpke HPKE = Hpke.BASE_AES_256_GCM;
  private static final PayloadSuite PAYLOAD_SUITE = PayloadSuite.AES_256_GCM;
  private static final KeyEnvelopeSuite ENVELOPE_SUITE =
      KeyEnvelopeSuite.HPKE_X25519_HKDF_SHA256_AES_256_GCM;

  private KeyGrants() {}

  public static byte[] info(
      KeyRole role,
      PayloadSuite payloadSuite,
      KeyEnvelopeSuite envelopeSuite,
      PayloadKeyId payloadKeyId,
      KeyContext context) {
    return Bytes.lengthPrefixed(
        Bytes.utf8(CryptoConstants.WEBTTY_KEY_DOMAIN),
        Bytes.utf8(role.wireName()),
        Bytes.utf8(payloadSuite.wireName()),
        Bytes.utf8(envelopeSuite.wireName()),
        payloadKeyId.toBytes(),
        context.toCanonicalJson());
  }

  public static byte[] aad(
      KeyId recipient,
      KeyRole role,
      PayloadSuite payloadSuite,
      KeyEnvelopeSuite envelopeSuite,
      PayloadKeyId payloadKeyId,
      KeyContext context) {
    return Bytes.lengthPrefixed(
        Bytes.utf8(CryptoConstants.WEBTTY_KEY_DOMAIN),
        recipient.toBytes(),
        Bytes.utf8(role.wireName()),
        Bytes.utf8(payloadSuite.wireName()),
        Bytes.utf8(envelopeSuite.wireName()),
        payloadKeyId.toBytes(),
        context.toCanonicalJson());
  }

  /** Wraps {@code key} for one recipient, who must be listed in {@code context}. */
  public static KeyGrant wrap(
      KeyRole role,
      PayloadKey key,
      PayloadKeyId keyId,
      KeyContext context,
      X25519PublicKey recipient) {
    KeyId recipientId = recipientIn(context, recipient);
    return seal(
        HPKE.setupBaseSender(recipient, info(role, PAYLOAD_SUITE, ENVELOPE_SUITE, keyId, context)),
        recipientId,
        role,
        key,
        keyId,
        context);
  }

  /** One grant per recipient key, in the given order. */
  public static List<KeyGrant> wrapForAll(
      KeyRole role,
      PayloadKey key,
      PayloadKeyId keyId,
      KeyContext context,
      List<X25519PublicKey> recipients) {
    List<KeyGrant> grants = new ArrayList<>();
    for (X25519PublicKey r : recipients) {
      grants.add(wrap(role, key, keyId, context, r));
    }
    return grants;
  }

  /** INSECURE outside conformance vectors: wraps with a caller-chosen HPKE ephemeral key. */
  public static KeyGrant insecureWrapWithEphemeral(
      KeyRole role,
      PayloadKey key,
      PayloadKeyId keyId,
      KeyContext context,
      X25519PublicKey recipient,
      X25519KeyPair ephemeral) {
    KeyId recipientId = recipientIn(context, recipient);
    return seal(
        HPKE.insecureSetupBaseSenderWithEphemeral(
            recipient, info(role, PAYLOAD_SUITE, ENVELOPE_SUITE, keyId, context), ephemeral),
        recipientId,
        role,
        key,
        keyId,
        context);
  }

  private static KeyGrant seal(
      HpkeContext ctx,
      KeyId recipientId,
      KeyRole role,
      PayloadKey key,
      PayloadKeyId keyId,
      KeyContext context) {
    byte[] raw = key.exportKeyBytes();
    try {
      byte[] ct =
          ctx.seal(aad(recipientId, role, PAYLOAD_SUITE, ENVELOPE_SUITE, keyId, context), raw);
      return new KeyGrant(recipientId, role, PAYLOAD_SUITE, ENVELOPE_SUITE, keyId, ctx.enc(), ct);
    } finally {
      Arrays.fill(raw, (byte) 0);
    }
  }

  /**
   * Unwraps a grant addressed to {@code recipient} in {@code context}. Fails with {@link
   * dev.umbra.crypto.AuthenticationFailedException} if anything (context, suites, ids, enc,
   * ciphertext) differs from what was wrapped; with {@link InvalidStateException} if the grant or
   * context does not name this recipient.
   */
  public static PayloadKey unwrap(KeyGrant grant, KeyContext context, X25519KeyPair recipient) {
    KeyId recipientId = recipientIn(context, recipient.publicKey());
    if (!grant.recipientKeyId().equals(recipientId)) {
      throw new InvalidStateException(
          "WebTTY key grant is addressed to key "
              + grant.recipientKeyId().toHex()
              + ", not to this key "
              + recipientId.toHex());
    }
    if (grant.ciphertext().length
        != CryptoConstants.AES_256_KEY_LENGTH + CryptoConstants.AEAD_TAG_LENGTH) {
      throw new MalformedInputException(
          "WebTTY key grant ciphertext must be 48 bytes, got " + grant.ciphertext().length);
    }
    byte[] raw =
        HPKE.open(
            recipient,
            grant.enc(),
            info(
                grant.role(),
                grant.payloadSuite(),
                grant.keyEnvelopeSuite(),
                grant.payloadKeyId(),
                context),
            aad(
                recipientId,
                grant.role(),
                grant.payloadSuite(),
                grant.keyEnvelopeSuite(),
                grant.payloadKeyId(),
                context),
            grant.ciphertext());
    try {
      return PayloadKey.fromBytes(raw);
    } finally {
      Arrays.fill(raw, (byte) 0);
    }
  }

  private static KeyId recipientIn(KeyContext context, X25519PublicKey recipient) {
    KeyId id = KeyId.of(recipient);
    if (!context.hasRecipient(id)) {
      throw new InvalidStateException(
          "recipient key " + id.toHex() + " is not listed in the WebTTY key context");
    }
    return id;
  }
}
