package dev.umbra.crypto.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.kdf.HkdfSha256;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.proto.SeedMutations;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fuzz harnesses of every messaging parser of outside bytes (docs/messaging-crypto.md). Contract:
 * an input either fails with a {@link CryptoException} (a typed refusal) or parses to a value whose
 * encoding is exactly the input; a ratchet message either opens or is refused leaving the session
 * state byte for byte unchanged. Seeds: {@code MessagingFuzzTestInputs/} (valid encodings from
 * {@link #fixture()}).
 */
class MessagingFuzzTest {
  /** A fixed session: Alice sent m0..m3, Bob opened m2 (m0, m1 skipped), m3 is still unread. */
  record Fixture(
      byte[] bobState, List<byte[]> messages, byte[] bundle, byte[] initial, byte[] prekeys) {}

  static final Fixture FIXTURE = fixture();

  static Fixture fixture() {
    VectorKeys keys =
        new VectorKeys(
            (label, n) ->
                HkdfSha256.derive(
                    "umbra-fuzz-seed".getBytes(StandardCharsets.UTF_8),
                    null,
                    label.getBytes(StandardCharsets.UTF_8),
                    n));
    IdentityKeyPair alice = keys.identity("alice");
    IdentityKeyPair bob = keys.identity("bob");
    SignedPrekey spk =
        new SignedPrekey(1, keys.x25519("spk"), VectorKeys.NOW, VectorKeys.NOW.plusSeconds(86_400));
    OneTimePrekey opk = new OneTimePrekey(2, keys.x25519("opk"));
    byte[] bundle = PrekeyBundle.create(bob, spk, opk.publicPart()).encode();
    VerifiedPrekeyBundle v =
        PrekeyBundle.verify(bundle, bob.signing().publicKey(), VectorKeys.CLOCK);
    X3dh.Initiated init =
        X3dh.initiate(alice, v, new byte[] {'h', 'i'}, VectorKeys.options(keys.drawn("alice")));
    InMemoryPrekeySecrets prekeys =
        new InMemoryPrekeySecrets()
            .addSignedPrekey(spk)
            .addOneTimePrekey(opk)
            .addOneTimePrekey(new OneTimePrekey(3, keys.x25519("opk-3")));
    X3dh.Responded r =
        X3dh.respond(
            bob,
            prekeys,
            init.initialMessage(),
            alice.signing().publicKey(),
            VectorKeys.options(keys.drawn("bob")));
    List<byte[]> messages = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      messages.add(init.session().encrypt(("m" + i).getBytes(StandardCharsets.UTF_8)).encode());
    }
    r.session().decrypt(messages.get(2));
    return new Fixture(
        r.session().toBytes(), messages, bundle, init.initialMessage().encode(), prekeys.toBytes());
  }

  @Test
  void mutantsOfTheSeedsKeepTheContract() {
    mutate("bundleParsesToItsBytesOrIsRefused", this::bundleParsesToItsBytesOrIsRefused);
    mutate(
        "initialMessageParsesToItsBytesOrIsRefused",
        this::initialMessageParsesToItsBytesOrIsRefused);
    mutate(
        "messageOpensOrIsRefusedWithTheStateUnchanged",
        this::messageOpensOrIsRefusedWithTheStateUnchanged);
    mutate(
        "prekeySecretsLoadToTheirBytesOrAreRefused",
        this::prekeySecretsLoadToTheirBytesOrAreRefused);
    mutate("stateLoadsToItsBytesOrIsRefused", this::stateLoadsToItsBytesOrIsRefused);
  }

  /**
   * The seeds of {@code method} and 2,000 deterministic mutants of them (see {@link
   * SeedMutations}).
   */
  private void mutate(String method, SeedMutations.Target target) {
    assertThat(SeedMutations.run(getClass(), method, 2_000, target)).isGreaterThan(2_000);
  }

  @FuzzTest(maxDuration = "10s")
  void bundleParsesToItsBytesOrIsRefused(byte[] input) {
    PrekeyBundle b;
    try {
      b = PrekeyBundle.parse(input);
    } catch (CryptoException e) {
      return;
    }
    assertThat(b.encode()).isEqualTo(input);
    try {
      PrekeyBundle.verify(input, b.identity().signingKey(), VectorKeys.CLOCK);
    } catch (MessageRefusedException e) {
      assertThat(e.reason())
          .isIn(
              MessageRefusal.BAD_SIGNATURE,
              MessageRefusal.EXPIRED_PREKEY,
              MessageRefusal.PREKEY_NOT_YET_VALID,
              MessageRefusal.MALFORMED);
    }
  }

  @FuzzTest(maxDuration = "10s")
  void initialMessageParsesToItsBytesOrIsRefused(byte[] input) {
    assertReEncodesOrIsRefused(input, b -> InitialMessage.parse(b).encode());
  }

  @FuzzTest(maxDuration = "10s")
  void messageOpensOrIsRefusedWithTheStateUnchanged(byte[] input) {
    RatchetSession bob =
        RatchetSession.fromBytes(FIXTURE.bobState(), VectorKeys.options(X25519KeyPair::generate));
    try {
      RatchetMessage parsed = RatchetMessage.parse(input);
      assertThat(parsed.encode()).isEqualTo(input);
      bob.decrypt(parsed);
    } catch (CryptoException e) {
      assertThat(bob.toBytes()).isEqualTo(FIXTURE.bobState());
      return;
    }
    assertThat(FIXTURE.messages()).anySatisfy(m -> assertThat(m).isEqualTo(input));
  }

  @FuzzTest(maxDuration = "10s")
  void prekeySecretsLoadToTheirBytesOrAreRefused(byte[] input) {
    assertReEncodesOrIsRefused(input, b -> InMemoryPrekeySecrets.fromBytes(b).toBytes());
  }

  @FuzzTest(maxDuration = "10s")
  void stateLoadsToItsBytesOrIsRefused(byte[] input) {
    assertReEncodesOrIsRefused(
        input,
        b -> RatchetSession.fromBytes(b, VectorKeys.options(X25519KeyPair::generate)).toBytes());
  }

  /** {@code parseThenEncode} either refuses with a CryptoException or gives back the input. */
  private static void assertReEncodesOrIsRefused(
      byte[] input, java.util.function.UnaryOperator<byte[]> parseThenEncode) {
    byte[] again;
    try {
      again = parseThenEncode.apply(input);
    } catch (CryptoException e) {
      return;
    }
    assertThat(again).isEqualTo(input);
  }
}
