package dev.umbra.crypto.messaging;

import static dev.umbra.crypto.messaging.Conversation.text;
import static dev.umbra.crypto.messaging.Conversation.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import org.junit.jupiter.api.Test;

class X3dhTest {
  @Test
  void bothSidesDeriveTheSameSecretAndAdWithAOneTimePrekey() {
    Conversation c = new Conversation();
    VerifiedPrekeyBundle v =
        PrekeyBundle.verify(c.bundle(true), c.bob.signing().publicKey(), c.clock);
    X25519KeyPair ek = X25519KeyPair.generate();
    X3dh.Agreement a = X3dh.agreeAsInitiator(c.alice, v, ek);
    X3dh.Agreement b =
        X3dh.agreeAsResponder(c.bob, c.alice.publicIdentity(), ek.publicKey(), c.bobSpk, c.bobOpk);
    assertThat(a.sharedSecret()).isEqualTo(b.sharedSecret());
    assertThat(a.ad()).isEqualTo(b.ad());
    assertThat(a.ad().initiator()).isEqualTo(c.alice.publicIdentity());
    assertThat(a.ad().responder()).isEqualTo(c.bob.publicIdentity());
  }

  @Test
  void withoutAOneTimePrekeyThreeDhValuesGiveADifferentButAgreedSecret() {
    Conversation c = new Conversation();
    X25519KeyPair ek = X25519KeyPair.generate();
    X3dh.Agreement four =
        X3dh.agreeAsInitiator(
            c.alice, PrekeyBundle.verify(c.bundle(true), c.bob.signing().publicKey(), c.clock), ek);
    X3dh.Agreement three =
        X3dh.agreeAsInitiator(
            c.alice,
            PrekeyBundle.verify(c.bundle(false), c.bob.signing().publicKey(), c.clock),
            ek);
    X3dh.Agreement bob =
        X3dh.agreeAsResponder(c.bob, c.alice.publicIdentity(), ek.publicKey(), c.bobSpk, null);
    assertThat(three.sharedSecret())
        .isEqualTo(bob.sharedSecret())
        .isNotEqualTo(four.sharedSecret());
  }

  @Test
  void aSessionWithAOneTimePrekeyConsumesItOnlyAfterTheFirstMessageOpened() {
    Conversation c = Conversation.started();
    assertThat(c.initial.oneTimePrekeyId()).hasValue(42);
    assertThat(c.bobPrekeys.oneTimePrekey(42)).isEmpty();
    assertThat(text(c.bobSession.decrypt(c.aliceSession.encrypt(utf8("second")))))
        .isEqualTo("second");
  }

  @Test
  void whenNoOneTimePrekeyIsLeftTheSessionFallsBackToThreeDh() {
    Conversation c = new Conversation();
    c.start(false);
    assertThat(c.initial.oneTimePrekeyId()).isEmpty();
    assertThat(c.bobPrekeys.oneTimePrekeyCount()).isEqualTo(1);
    assertThat(text(c.aliceSession.decrypt(c.bobSession.encrypt(utf8("hi alice")))))
        .isEqualTo("hi alice");
  }

  @Test
  void aReplayedInitialMessageIsRefusedWithOrWithoutAOneTimePrekey() {
    Conversation with = Conversation.started();
    assertRefused(
        () ->
            X3dh.respond(
                with.bob,
                with.bobPrekeys,
                with.initial,
                with.alice.signing().publicKey(),
                with.options),
        MessageRefusal.UNKNOWN_PREKEY);
    Conversation without = new Conversation();
    without.start(false);
    assertRefused(
        () ->
            X3dh.respond(
                without.bob,
                without.bobPrekeys,
                without.initial,
                without.alice.signing().publicKey(),
                without.options),
        MessageRefusal.REPLAYED);
  }

  @Test
  void anInitialMessageFromAnotherIdentityThanThePinnedOneIsRefused() {
    Conversation c = new Conversation();
    IdentityKeyPair mallory = IdentityKeyPair.withFreshDhKey(Ed25519KeyPair.generate());
    VerifiedPrekeyBundle v =
        PrekeyBundle.verify(c.bundle(true), c.bob.signing().publicKey(), c.clock);
    InitialMessage m = X3dh.initiate(mallory, v, utf8("hi"), c.options).initialMessage();
    assertRefused(
        () -> X3dh.respond(c.bob, c.bobPrekeys, m, c.alice.signing().publicKey(), c.options),
        MessageRefusal.IDENTITY_MISMATCH);
    assertThat(c.bobPrekeys.oneTimePrekey(42)).isPresent();
  }

  @Test
  void anInitialMessageWhoseX25519IdentityIsNotBoundByTheSenderIsRefused() {
    Conversation c = new Conversation();
    VerifiedPrekeyBundle v =
        PrekeyBundle.verify(c.bundle(true), c.bob.signing().publicKey(), c.clock);
    IdentityKeyPair swapped = new IdentityKeyPair(c.alice.signing(), X25519KeyPair.generate());
    InitialMessage honest = X3dh.initiate(swapped, v, utf8("hi"), c.options).initialMessage();
    InitialMessage forged =
        new InitialMessage(
            swapped.publicIdentity(),
            c.alice.bindingSignature(),
            honest.ephemeralKey(),
            honest.signedPrekeyId(),
            honest.oneTimePrekeyId(),
            honest.message());
    assertRefused(
        () -> X3dh.respond(c.bob, c.bobPrekeys, forged, c.alice.signing().publicKey(), c.options),
        MessageRefusal.BAD_SIGNATURE);
  }

  @Test
  void aHostileServerSwappingTheOneTimePrekeyGetsNoSessionAndBurnsNoPrekey() {
    Conversation c = new Conversation();
    PrekeyBundle honest = PrekeyBundle.parse(c.bundle(true));
    PublicOneTimePrekey serverKey = OneTimePrekey.generate(42).publicPart();
    byte[] swapped = honest.withOneTimePrekey(serverKey).encode();
    VerifiedPrekeyBundle v = PrekeyBundle.verify(swapped, c.bob.signing().publicKey(), c.clock);
    InitialMessage m = X3dh.initiate(c.alice, v, utf8("hi"), c.options).initialMessage();
    assertRefused(
        () -> X3dh.respond(c.bob, c.bobPrekeys, m, c.alice.signing().publicKey(), c.options),
        MessageRefusal.BAD_TAG);
    assertThat(c.bobPrekeys.oneTimePrekey(42)).isPresent();
  }

  @Test
  void anInitialMessageNamingAPrekeyTheResponderDoesNotHoldIsRefused() {
    Conversation c = new Conversation();
    VerifiedPrekeyBundle v =
        PrekeyBundle.verify(c.bundle(true), c.bob.signing().publicKey(), c.clock);
    InitialMessage m = X3dh.initiate(c.alice, v, utf8("hi"), c.options).initialMessage();
    c.bobPrekeys.removeSignedPrekey(7);
    assertRefused(
        () -> X3dh.respond(c.bob, c.bobPrekeys, m, c.alice.signing().publicKey(), c.options),
        MessageRefusal.UNKNOWN_PREKEY);
  }

  @Test
  void aTamperedInitialMessageIsRefusedAndConsumesNothing() {
    Conversation c = new Conversation();
    VerifiedPrekeyBundle v =
        PrekeyBundle.verify(c.bundle(true), c.bob.signing().publicKey(), c.clock);
    byte[] m = X3dh.initiate(c.alice, v, utf8("hi"), c.options).initialMessage().encode();
    java.util.List<String> accepted =
        new java.util.ArrayList<>(
            dev.umbra.crypto.testing.Mutations.acceptedBitFlips(
                "initial message", m, t -> respond(c, t)));
    accepted.addAll(
        dev.umbra.crypto.testing.Mutations.acceptedTruncations(
            "initial message", m, t -> respond(c, t)));
    assertThat(accepted).isEmpty();
    assertThat(c.bobPrekeys.oneTimePrekey(42)).isPresent();
    X3dh.Responded r =
        X3dh.respond(
            c.bob, c.bobPrekeys, InitialMessage.parse(m), c.alice.signing().publicKey(), c.options);
    assertThat(text(r.plaintext())).isEqualTo("hi");
  }

  private static void respond(Conversation c, byte[] initial) {
    X3dh.respond(
        c.bob,
        c.bobPrekeys,
        InitialMessage.parse(initial),
        c.alice.signing().publicKey(),
        c.options);
  }

  static void assertRefused(
      org.assertj.core.api.ThrowableAssert.ThrowingCallable call, MessageRefusal reason) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            MessageRefusedException.class, e -> assertThat(e.reason()).isEqualTo(reason));
  }
}
