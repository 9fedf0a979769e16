package dev.umbra.crypto.messaging;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.proto.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;

/** Test fixture: Alice (owner device) and Bob (agent) with a session started by X3DH. */
final class Conversation {
  static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

  final MutableClock clock = new MutableClock(T0);
  final RatchetOptions options = RatchetOptions.defaults(clock);
  final IdentityKeyPair alice = IdentityKeyPair.withFreshDhKey(Ed25519KeyPair.generate());
  final IdentityKeyPair bob = IdentityKeyPair.withFreshDhKey(Ed25519KeyPair.generate());
  final SignedPrekey bobSpk = SignedPrekey.generate(7, T0, Duration.ofDays(7));
  final OneTimePrekey bobOpk = OneTimePrekey.generate(42);
  final InMemoryPrekeySecrets bobPrekeys =
      new InMemoryPrekeySecrets().addSignedPrekey(bobSpk).addOneTimePrekey(bobOpk);
  RatchetSession aliceSession;
  RatchetSession bobSession;
  InitialMessage initial;

  /** Both sessions set up; the first message ("hello bob") already opened by Bob. */
  static Conversation started() {
    Conversation c = new Conversation();
    c.start(true);
    return c;
  }

  byte[] bundle(boolean withOneTimePrekey) {
    return PrekeyBundle.create(bob, bobSpk, withOneTimePrekey ? bobOpk.publicPart() : null)
        .encode();
  }

  void start(boolean withOneTimePrekey) {
    VerifiedPrekeyBundle v =
        PrekeyBundle.verify(bundle(withOneTimePrekey), bob.signing().publicKey(), clock);
    X3dh.Initiated i = X3dh.initiate(alice, v, utf8("hello bob"), options);
    aliceSession = i.session();
    initial = InitialMessage.parse(i.initialMessage().encode());
    X3dh.Responded r = X3dh.respond(bob, bobPrekeys, initial, alice.signing().publicKey(), options);
    bobSession = r.session();
    if (!new String(r.plaintext(), UTF_8).equals("hello bob")) {
      throw new AssertionError("first message did not open");
    }
  }

  static byte[] utf8(String s) {
    return s.getBytes(UTF_8);
  }

  static String text(byte[] b) {
    return new String(b, UTF_8);
  }
}
