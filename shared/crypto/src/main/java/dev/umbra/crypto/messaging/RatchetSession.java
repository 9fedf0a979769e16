package dev.umbra.crypto.messaging;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.InvalidStateException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.aead.AeadKey;
import dev.umbra.crypto.aead.XChaCha20Poly1305;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.messaging.RatchetState.Skipped;
import dev.umbra.crypto.messaging.RatchetState.SkippedId;
import java.util.Arrays;
import java.util.Objects;

/**
 * One Double Ratchet session (Signal's "The Double Ratchet Algorithm", revision 1), encrypting with
 * XChaCha20-Poly1305 under AD = X3DH AD || encoded header. Decryption runs on a copy of the state
 * and commits only on success, so a refused message leaves the session exactly as it was; message
 * keys are deleted once used, so neither a replay nor a later snapshot opens a message twice.
 * Thread-safe (every method is synchronized). Details: docs/messaging-crypto.md.
 */
public final class RatchetSession {
  private final RatchetOptions options;
  private RatchetState state;

  private RatchetSession(RatchetState state, RatchetOptions options) {
    this.state = state;
    this.options = Objects.requireNonNull(options, "options");
  }

  /** Alice: RatchetInitAlice(SK, Bob's signed prekey). She can send at once. */
  public static RatchetSession initiator(
      RootSecret sk, SessionAd ad, X25519PublicKey responderRatchetKey, RatchetOptions options) {
    X25519KeyPair dhs = options.keySource().get();
    byte[][] r = RatchetKdf.root(sk.view(), agree(dhs, responderRatchetKey));
    return new RatchetSession(new RatchetState(ad, r[0], dhs, responderRatchetKey, r[1]), options);
  }

  /** Bob: RatchetInitBob(SK, his signed prekey pair). He sends after his first decryption. */
  public static RatchetSession responder(
      RootSecret sk, SessionAd ad, X25519KeyPair signedPrekey, RatchetOptions options) {
    return new RatchetSession(
        new RatchetState(ad, sk.exportSecretBytes(), signedPrekey, null, null), options);
  }

  /** Loads a state written by {@link #toBytes()}; refuses MALFORMED or UNKNOWN_VERSION. */
  public static RatchetSession fromBytes(byte[] state, RatchetOptions options) {
    try {
      return new RatchetSession(RatchetState.decode(state), options);
    } catch (MalformedInputException e) {
      throw new MessageRefusedException(
          MessageRefusal.MALFORMED, "session state: " + e.getMessage());
    }
  }

  /** Opens a state sealed by {@link #seal}; fails closed (BAD_TAG, MALFORMED, UNKNOWN_VERSION). */
  public static RatchetSession openSealed(
      AeadKey storageKey, String stateId, byte[] sealed, RatchetOptions options) {
    return fromBytes(SealedSessionState.open(storageKey, stateId, sealed), options);
  }

  /** The exact serialized state (contains secrets: store it only sealed, see {@link #seal}). */
  public synchronized byte[] toBytes() {
    return state.encode();
  }

  /**
   * The state sealed with XChaCha20-Poly1305 under the device storage key, bound to {@code
   * stateId}.
   */
  public synchronized byte[] seal(AeadKey storageKey, String stateId) {
    byte[] plain = state.encode();
    try {
      return SealedSessionState.seal(storageKey, stateId, plain);
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
  }

  public synchronized SessionAd associatedData() {
    return state.ad;
  }

  /** Skipped message keys held (bounded by {@link RatchetLimits}). */
  public synchronized int skippedKeyCount() {
    return state.skipped.size();
  }

  /** Deletes skipped keys older than the limit; decrypt does it too. Returns how many went. */
  public synchronized int purgeExpiredSkippedKeys() {
    return state.purgeExpired(now(), options.limits().skippedKeyMaxAge().toSeconds());
  }

  /** RatchetEncrypt. */
  public synchronized RatchetMessage encrypt(byte[] plaintext) {
    if (plaintext.length > CryptoConstants.MSG_MAX_PLAINTEXT_LENGTH) {
      throw new MessageRefusedException(MessageRefusal.TOO_LARGE, "plaintext over the size limit");
    }
    if (state.cks == null) {
      throw new InvalidStateException(
          "no sending chain yet: the responder sends after its first decryption");
    }
    if (state.ns >= 0xffffffffL) {
      throw new MessageRefusedException(
          MessageRefusal.COUNTER_EXHAUSTED, "sending chain exhausted");
    }
    byte[][] c = RatchetKdf.chain(state.cks);
    Arrays.fill(state.cks, (byte) 0);
    state.cks = c[0];
    RatchetHeader header = new RatchetHeader(state.dhs.publicKey(), state.pn, state.ns);
    state.ns++;
    byte[][] keys = RatchetKdf.messageKeys(c[1]);
    Arrays.fill(c[1], (byte) 0);
    byte[] ct =
        XChaCha20Poly1305.seal(
            AeadKey.fromBytes(keys[0]), keys[1], aad(state.ad, header), plaintext);
    Arrays.fill(keys[0], (byte) 0);
    return new RatchetMessage(header, ct);
  }

  /** Parses and decrypts {@code encoded}; see {@link #decrypt(RatchetMessage)}. */
  public byte[] decrypt(byte[] encoded) {
    return decrypt(RatchetMessage.parse(encoded));
  }

  /**
   * RatchetDecrypt, on a copy committed only on success. Refusals ({@link
   * MessageRefusedException}): BAD_TAG, REPLAYED, TOO_MANY_SKIPPED, MALFORMED.
   */
  public synchronized byte[] decrypt(RatchetMessage message) {
    long now = now();
    state.purgeExpired(now, options.limits().skippedKeyMaxAge().toSeconds());
    RatchetState work = state.copy();
    byte[] plaintext;
    try {
      plaintext = decryptOn(work, message, now);
    } catch (RuntimeException e) {
      work.wipe();
      throw e;
    }
    state.wipe();
    state = work;
    return plaintext;
  }

  private byte[] decryptOn(RatchetState w, RatchetMessage m, long now) {
    RatchetHeader h = m.header();
    if (h.n() >= 0xffffffffL) {
      throw new MessageRefusedException(MessageRefusal.MALFORMED, "n beyond the last counter");
    }
    Skipped found = w.skipped.remove(new SkippedId(h.dh(), h.n()));
    if (found != null) {
      return open(found.mk(), w.ad, m);
    }
    boolean stepped = false;
    if (h.dh().equals(w.dhr)) {
      if (h.n() < w.nr) {
        throw new MessageRefusedException(
            MessageRefusal.REPLAYED, "message key already used or deleted");
      }
    } else if (w.retired.contains(h.dh())) {
      throw new MessageRefusedException(
          MessageRefusal.REPLAYED, "message of a closed chain, key already used or deleted");
    } else {
      skip(w, h.pn(), now);
      receivingStep(w, h);
      stepped = true;
    }
    if (w.ckr == null) {
      throw new MessageRefusedException(
          MessageRefusal.BAD_TAG, "no receiving chain for this ratchet key");
    }
    skip(w, h.n(), now);
    byte[][] c = RatchetKdf.chain(w.ckr);
    Arrays.fill(w.ckr, (byte) 0);
    w.ckr = c[0];
    w.nr++;
    byte[] plaintext = open(c[1], w.ad, m);
    if (stepped) {
      sendingStep(w);
    }
    return plaintext;
  }

  private void skip(RatchetState w, long until, long now) {
    if (w.nr + options.limits().maxSkip() < until) {
      throw new MessageRefusedException(
          MessageRefusal.TOO_MANY_SKIPPED, "would skip " + (until - w.nr) + " message keys");
    }
    if (w.ckr == null) {
      return;
    }
    while (w.nr < until) {
      byte[][] c = RatchetKdf.chain(w.ckr);
      Arrays.fill(w.ckr, (byte) 0);
      w.ckr = c[0];
      w.putSkipped(new SkippedId(w.dhr, w.nr), c[1], now, options.limits().maxSkippedKeys());
      w.nr++;
    }
  }

  /**
   * First half of DHRatchet: PN = Ns, Ns = Nr = 0, DHr = header.dh, RK, CKr = KDF_RK(RK, DH(DHs,
   * DHr)). The second half ({@link #sendingStep}) runs only once the message opened, so a refused
   * message draws no fresh key; the resulting state is the spec's.
   */
  private static void receivingStep(RatchetState w, RatchetHeader h) {
    if (w.dhr != null) {
      w.retire(w.dhr);
    }
    w.pn = w.ns;
    w.ns = 0;
    w.nr = 0;
    w.dhr = h.dh();
    byte[][] r = RatchetKdf.root(w.rk, agree(w.dhs, w.dhr));
    Arrays.fill(w.rk, (byte) 0);
    w.rk = r[0];
    w.ckr = r[1];
  }

  /** Second half of DHRatchet: DHs = GENERATE_DH(), RK, CKs = KDF_RK(RK, DH(DHs, DHr)). */
  private void sendingStep(RatchetState w) {
    w.dhs = options.keySource().get();
    byte[][] s = RatchetKdf.root(w.rk, agree(w.dhs, w.dhr));
    Arrays.fill(w.rk, (byte) 0);
    w.rk = s[0];
    if (w.cks != null) {
      Arrays.fill(w.cks, (byte) 0);
    }
    w.cks = s[1];
  }

  private static byte[] open(byte[] mk, SessionAd ad, RatchetMessage m) {
    byte[][] keys = RatchetKdf.messageKeys(mk);
    Arrays.fill(mk, (byte) 0);
    try {
      return XChaCha20Poly1305.open(
          AeadKey.fromBytes(keys[0]), keys[1], aad(ad, m.header()), m.ciphertext());
    } catch (AuthenticationFailedException e) {
      throw new MessageRefusedException(MessageRefusal.BAD_TAG, "message does not authenticate");
    } finally {
      Arrays.fill(keys[0], (byte) 0);
    }
  }

  /** AEAD associated data: X3DH AD (128 bytes) || encoded header (41 bytes). */
  static byte[] aad(SessionAd ad, RatchetHeader header) {
    return Bytes.concat(ad.toBytes(), header.encode());
  }

  static byte[] agree(X25519KeyPair own, X25519PublicKey peer) {
    try {
      return own.privateKey().agree(peer);
    } catch (MalformedInputException e) {
      throw new MessageRefusedException(MessageRefusal.MALFORMED, "low-order X25519 public key");
    }
  }

  private long now() {
    return options.clock().instant().getEpochSecond();
  }
}
