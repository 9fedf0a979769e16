package dev.umbra.crypto.messaging;

import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import java.util.Arrays;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * X3DH (Signal's "The X3DH Key Agreement Protocol", revision 1) with X25519, SHA-256 and a separate
 * X25519 identity key bound to the Ed25519 identity (docs/messaging-crypto.md, "X3DH"), starting a
 * {@link RatchetSession}.
 */
public final class X3dh {
  private X3dh() {}

  /** SK and AD of one X3DH run. */
  public record Agreement(RootSecret sharedSecret, SessionAd ad) {}

  /** The initiator's new session and the initial message to send. */
  public record Initiated(RatchetSession session, InitialMessage initialMessage) {}

  /** The responder's new session and the first message's plaintext. */
  public record Responded(RatchetSession session, byte[] plaintext, PublicIdentity sender) {}

  /**
   * Alice: DH1 = DH(IK_A, SPK_B), DH2 = DH(EK_A, IK_B), DH3 = DH(EK_A, SPK_B), DH4 = DH(EK_A,
   * OPK_B) when the bundle has a one-time prekey; SK = KDF(DH1 || DH2 || DH3 [|| DH4]).
   */
  public static Agreement agreeAsInitiator(
      IdentityKeyPair self, VerifiedPrekeyBundle verified, X25519KeyPair ephemeral) {
    PrekeyBundle b = verified.bundle();
    X25519PublicKey spk = b.signedPrekey();
    byte[] dh1 = RatchetSession.agree(self.dh(), spk);
    byte[] dh2 = RatchetSession.agree(ephemeral, b.identity().dhKey());
    byte[] dh3 = RatchetSession.agree(ephemeral, spk);
    byte[] dh4 =
        b.oneTimePrekey().map(o -> RatchetSession.agree(ephemeral, o.key())).orElse(new byte[0]);
    return agreement(SessionAd.of(self.publicIdentity(), b.identity()), dh1, dh2, dh3, dh4);
  }

  /** Bob: the same four (or three) DH values from his side. */
  public static Agreement agreeAsResponder(
      IdentityKeyPair self,
      PublicIdentity initiator,
      X25519PublicKey ephemeral,
      SignedPrekey spk,
      OneTimePrekey opk) {
    byte[] dh1 = RatchetSession.agree(spk.keyPair(), initiator.dhKey());
    byte[] dh2 = RatchetSession.agree(self.dh(), ephemeral);
    byte[] dh3 = RatchetSession.agree(spk.keyPair(), ephemeral);
    byte[] dh4 = opk == null ? new byte[0] : RatchetSession.agree(opk.keyPair(), ephemeral);
    return agreement(SessionAd.of(initiator, self.publicIdentity()), dh1, dh2, dh3, dh4);
  }

  /**
   * Alice starts a session from a verified bundle and encrypts the first message. The ephemeral key
   * and the first ratchet key come from {@code options.keySource()}.
   */
  public static Initiated initiate(
      IdentityKeyPair self,
      VerifiedPrekeyBundle bundle,
      byte[] firstPlaintext,
      RatchetOptions options) {
    X25519KeyPair ephemeral = options.keySource().get();
    Agreement a = agreeAsInitiator(self, bundle, ephemeral);
    PrekeyBundle b = bundle.bundle();
    RatchetSession session =
        RatchetSession.initiator(a.sharedSecret(), a.ad(), b.signedPrekey(), options);
    RatchetMessage first = session.encrypt(firstPlaintext);
    OptionalLong opkId =
        b.oneTimePrekey().map(o -> OptionalLong.of(o.id())).orElse(OptionalLong.empty());
    InitialMessage m =
        new InitialMessage(
            self.publicIdentity(),
            self.bindingSignature(),
            ephemeral.publicKey(),
            b.signedPrekeyId(),
            opkId,
            first);
    return new Initiated(session, m);
  }

  /**
   * Bob opens an initial message from the peer whose Ed25519 key he pinned as {@code
   * expectedSender}. Order: pinned identity, binding signature, prekeys held, X3DH, first
   * decryption, replay check of the ephemeral key; only then is the one-time prekey consumed.
   * Refusals: IDENTITY_MISMATCH, BAD_SIGNATURE, UNKNOWN_PREKEY, BAD_TAG, REPLAYED, MALFORMED.
   */
  public static Responded respond(
      IdentityKeyPair self,
      PrekeySecrets prekeys,
      InitialMessage m,
      Ed25519PublicKey expectedSender,
      RatchetOptions options) {
    Objects.requireNonNull(m, "m");
    m.sender().requireSigningKey(expectedSender);
    m.sender().verifyBinding(m.senderBindingSignature());
    SignedPrekey spk =
        prekeys
            .signedPrekey(m.signedPrekeyId())
            .orElseThrow(() -> unknownPrekey("signed prekey " + m.signedPrekeyId()));
    OneTimePrekey opk = null;
    if (m.oneTimePrekeyId().isPresent()) {
      long id = m.oneTimePrekeyId().getAsLong();
      opk = prekeys.oneTimePrekey(id).orElseThrow(() -> unknownPrekey("one-time prekey " + id));
    }
    Agreement a = agreeAsResponder(self, m.sender(), m.ephemeralKey(), spk, opk);
    RatchetSession session =
        RatchetSession.responder(a.sharedSecret(), a.ad(), spk.keyPair(), options);
    byte[] plaintext = session.decrypt(m.message());
    if (!prekeys.recordEphemeral(m.signedPrekeyId(), m.ephemeralKey())) {
      throw new MessageRefusedException(MessageRefusal.REPLAYED, "initial message seen before");
    }
    if (opk != null) {
      prekeys.consumeOneTimePrekey(opk.id());
    }
    return new Responded(session, plaintext, m.sender());
  }

  private static MessageRefusedException unknownPrekey(String what) {
    return new MessageRefusedException(MessageRefusal.UNKNOWN_PREKEY, what + " is not held");
  }

  private static Agreement agreement(SessionAd ad, byte[]... dhs) {
    try {
      return new Agreement(RootSecret.fromBytes(RatchetKdf.x3dh(dhs)), ad);
    } finally {
      for (byte[] dh : dhs) {
        Arrays.fill(dh, (byte) 0);
      }
    }
  }
}
