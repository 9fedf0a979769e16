package dev.umbra.crypto.hpke;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PrivateKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.hpke.HPKE;
import org.bouncycastle.crypto.hpke.HPKEContextWithEncapsulation;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;

/**
 * HPKE (RFC 9180) with DHKEM(X25519, HKDF-SHA256) and HKDF-SHA256, on Bouncy Castle's {@link HPKE}.
 * Umbra's WebTTY key grants use {@link #BASE_AES_256_GCM}; the other AEADs and the PSK mode exist
 * for vector replay and future suites.
 */
public final class Hpke {
  /** Umbra's grant suite: base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM. */
  public static final Hpke BASE_AES_256_GCM = new Hpke(HpkeAead.AES_256_GCM);

  private final HpkeAead aead;

  private Hpke(HpkeAead aead) {
    this.aead = aead;
  }

  public static Hpke x25519HkdfSha256(HpkeAead aead) {
    return new Hpke(aead);
  }

  public HpkeAead aead() {
    return aead;
  }

  private HPKE hpke(byte mode) {
    return new HPKE(mode, HPKE.kem_X25519_SHA256, HPKE.kdf_HKDF_SHA256, aead.id());
  }

  /** Single-shot base-mode seal to {@code recipient} with a fresh ephemeral key. */
  public HpkeCiphertext seal(X25519PublicKey recipient, byte[] info, byte[] aad, byte[] plaintext) {
    HpkeContext ctx = setupBaseSender(recipient, info);
    return new HpkeCiphertext(ctx.enc(), ctx.seal(aad, plaintext));
  }

  /**
   * Single-shot base-mode open. Wrong key, info, aad, enc or ciphertext throw {@link
   * AuthenticationFailedException}.
   */
  public byte[] open(
      X25519KeyPair recipient, byte[] enc, byte[] info, byte[] aad, byte[] ciphertext) {
    if (ciphertext.length < CryptoConstants.AEAD_TAG_LENGTH) {
      throw new MalformedInputException(
          "HPKE ciphertext too short: " + ciphertext.length + " bytes");
    }
    return setupBaseReceiver(enc, recipient, info).open(aad, ciphertext);
  }

  public HpkeContext setupBaseSender(X25519PublicKey recipient, byte[] info) {
    HPKE h = hpke(HPKE.mode_base);
    return sender(h.setupBaseS(publicKey(h, recipient), info));
  }

  /**
   * INSECURE outside test vectors: base-mode sender with a caller-chosen ephemeral key pair.
   * Reusing an ephemeral key breaks HPKE's security; only conformance generators use this.
   */
  public HpkeContext insecureSetupBaseSenderWithEphemeral(
      X25519PublicKey recipient, byte[] info, X25519KeyPair ephemeral) {
    HPKE h = hpke(HPKE.mode_base);
    return sender(h.setupBaseS(publicKey(h, recipient), info, keyPair(h, ephemeral)));
  }

  public HpkeContext setupBaseReceiver(byte[] enc, X25519KeyPair recipient, byte[] info) {
    checkEnc(enc);
    HPKE h = hpke(HPKE.mode_base);
    try {
      return new HpkeContext(h.setupBaseR(enc, keyPair(h, recipient), info), null);
    } catch (RuntimeException e) {
      throw new AuthenticationFailedException("HPKE decapsulation failed: " + e.getMessage());
    }
  }

  public HpkeContext setupPskSender(
      X25519PublicKey recipient, byte[] info, byte[] psk, byte[] pskId) {
    HPKE h = hpke(HPKE.mode_psk);
    return sender(h.SetupPSKS(publicKey(h, recipient), info, psk, pskId));
  }

  public HpkeContext setupPskReceiver(
      byte[] enc, X25519KeyPair recipient, byte[] info, byte[] psk, byte[] pskId) {
    checkEnc(enc);
    HPKE h = hpke(HPKE.mode_psk);
    try {
      return new HpkeContext(h.setupPSKR(enc, keyPair(h, recipient), info, psk, pskId), null);
    } catch (RuntimeException e) {
      throw new AuthenticationFailedException("HPKE decapsulation failed: " + e.getMessage());
    }
  }

  /** DeriveKeyPair(ikm) of DHKEM(X25519, HKDF-SHA256) (RFC 9180 §7.1.3). */
  public static X25519KeyPair deriveKeyPair(byte[] ikm) {
    HPKE h =
        new HPKE(
            HPKE.mode_base, HPKE.kem_X25519_SHA256, HPKE.kdf_HKDF_SHA256, HPKE.aead_AES_GCM256);
    AsymmetricCipherKeyPair pair = h.deriveKeyPair(ikm);
    return X25519KeyPair.fromPrivateKey(
        X25519PrivateKey.fromBytes(h.serializePrivateKey(pair.getPrivate())));
  }

  private static HpkeContext sender(HPKEContextWithEncapsulation ctx) {
    return new HpkeContext(ctx, ctx.getEncapsulation());
  }

  private static void checkEnc(byte[] enc) {
    if (enc == null || enc.length != CryptoConstants.X25519_KEY_LENGTH) {
      throw new MalformedInputException(
          "HPKE enc must be 32 bytes for DHKEM(X25519), got "
              + (enc == null ? "none" : enc.length));
    }
  }

  private static AsymmetricKeyParameter publicKey(HPKE h, X25519PublicKey key) {
    return h.deserializePublicKey(key.toBytes());
  }

  private static AsymmetricCipherKeyPair keyPair(HPKE h, X25519KeyPair pair) {
    byte[] sk = pair.privateKey().exportPrivateBytes();
    try {
      return h.deserializePrivateKey(sk, pair.publicKey().toBytes());
    } finally {
      java.util.Arrays.fill(sk, (byte) 0);
    }
  }
}
