package dev.umbra.crypto.messaging;

import static dev.umbra.crypto.messaging.X3dhTest.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.testing.Mutations;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PrekeyBundleTest {
  private final Conversation c = new Conversation();

  @Test
  void bundlesHaveTheDocumentedLengthsAndRoundTrip() {
    byte[] with = c.bundle(true);
    byte[] without = c.bundle(false);
    assertThat(with).hasSize(PrekeyBundle.LENGTH_WITH_ONE_TIME_PREKEY).hasSize(282);
    assertThat(without).hasSize(PrekeyBundle.LENGTH_WITHOUT_ONE_TIME_PREKEY).hasSize(246);
    assertThat(PrekeyBundle.parse(with).encode()).isEqualTo(with);
    assertThat(PrekeyBundle.parse(without).oneTimePrekey()).isEmpty();
    assertThat(
            PrekeyBundle.verify(with, c.bob.signing().publicKey(), c.clock)
                .bundle()
                .oneTimePrekey())
        .contains(c.bobOpk.publicPart());
  }

  @Test
  void aHostileServerSwappingTheSignedPrekeyFailsVerification() {
    PrekeyBundle honest = PrekeyBundle.parse(c.bundle(true));
    PrekeyBundle swapped =
        new PrekeyBundle(
            honest.identity(),
            honest.identitySignature(),
            honest.signedPrekeyId(),
            honest.signedPrekeyCreatedAt(),
            honest.signedPrekeyExpiresAt(),
            X25519KeyPair.generate().publicKey(),
            honest.signedPrekeySignature(),
            honest.oneTimePrekey());
    assertRefused(
        () -> PrekeyBundle.verify(swapped.encode(), c.bob.signing().publicKey(), c.clock),
        MessageRefusal.BAD_SIGNATURE);
  }

  @Test
  void aHostileServerSwappingTheIdentityFailsAgainstThePinnedKey() {
    IdentityKeyPair mallory = IdentityKeyPair.withFreshDhKey(Ed25519KeyPair.generate());
    byte[] hers = PrekeyBundle.create(mallory, c.bobSpk, null).encode();
    assertRefused(
        () -> PrekeyBundle.verify(hers, c.bob.signing().publicKey(), c.clock),
        MessageRefusal.IDENTITY_MISMATCH);
    PrekeyBundle honest = PrekeyBundle.parse(c.bundle(false));
    PrekeyBundle otherDhKey =
        new PrekeyBundle(
            new PublicIdentity(c.bob.signing().publicKey(), mallory.dh().publicKey()),
            honest.identitySignature(),
            honest.signedPrekeyId(),
            honest.signedPrekeyCreatedAt(),
            honest.signedPrekeyExpiresAt(),
            honest.signedPrekey(),
            honest.signedPrekeySignature(),
            Optional.empty());
    assertRefused(
        () -> PrekeyBundle.verify(otherDhKey.encode(), c.bob.signing().publicKey(), c.clock),
        MessageRefusal.BAD_SIGNATURE);
  }

  @Test
  void anExpiredOrFutureSignedPrekeyIsRefused() {
    byte[] b = c.bundle(false);
    c.clock.advance(Duration.ofDays(7));
    assertRefused(
        () -> PrekeyBundle.verify(b, c.bob.signing().publicKey(), c.clock),
        MessageRefusal.EXPIRED_PREKEY);
    SignedPrekey future =
        SignedPrekey.generate(8, Conversation.T0.plus(Duration.ofDays(30)), Duration.ofDays(3));
    byte[] early = PrekeyBundle.create(c.bob, future, null).encode();
    assertRefused(
        () -> PrekeyBundle.verify(early, c.bob.signing().publicKey(), c.clock),
        MessageRefusal.PREKEY_NOT_YET_VALID);
  }

  @Test
  void everyBitFlipOfTheSignedPartAndEveryTruncationIsRefused() {
    byte[] b = c.bundle(false);
    assertThat(
            Mutations.acceptedBitFlips(
                "bundle", b, x -> PrekeyBundle.verify(x, c.bob.signing().publicKey(), c.clock)))
        .isEmpty();
    assertThat(
            Mutations.acceptedTruncations(
                "bundle",
                c.bundle(true),
                x -> PrekeyBundle.verify(x, c.bob.signing().publicKey(), c.clock)))
        .isEmpty();
  }

  @Test
  void unknownVersionsWrongLengthsAndBadFlagsAreRefused() {
    byte[] b = c.bundle(false);
    byte[] v2 = b.clone();
    v2[0] = 2;
    assertRefused(() -> PrekeyBundle.parse(v2), MessageRefusal.UNKNOWN_VERSION);
    assertRefused(
        () -> PrekeyBundle.parse(Arrays.copyOf(b, b.length + 1)), MessageRefusal.MALFORMED);
    assertRefused(() -> PrekeyBundle.parse(new byte[0]), MessageRefusal.MALFORMED);
    byte[] flag = b.clone();
    flag[flag.length - 1] = 2;
    assertRefused(() -> PrekeyBundle.parse(flag), MessageRefusal.MALFORMED);
    assertRefused(() -> PublicOneTimePrekey.parse(new byte[35]), MessageRefusal.MALFORMED);
  }
}
