package dev.umbra.crypto.messaging;

import static dev.umbra.crypto.messaging.X3dhTest.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.InvalidStateException;
import dev.umbra.crypto.aead.AeadKey;
import dev.umbra.crypto.testing.Mutations;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class PrekeySecretsTest {
  private final Conversation c = Conversation.started();

  @Test
  void prekeySecretsRoundTripWithTheConsumedKeyStillGoneAndTheSeenKeyStillSeen() {
    c.bobPrekeys.addOneTimePrekey(OneTimePrekey.generate(43));
    byte[] bytes = c.bobPrekeys.toBytes();
    InMemoryPrekeySecrets loaded = InMemoryPrekeySecrets.fromBytes(bytes);
    assertThat(loaded.toBytes()).isEqualTo(bytes);
    assertThat(loaded.oneTimePrekey(42)).isEmpty();
    assertThat(loaded.oneTimePrekey(43)).isPresent();
    assertThat(loaded.signedPrekey(7)).contains(c.bobSpk);
    assertThat(loaded.recordEphemeral(7, c.initial.ephemeralKey())).isFalse();
    assertRefused(
        () -> X3dh.respond(c.bob, loaded, c.initial, c.alice.signing().publicKey(), c.options),
        MessageRefusal.UNKNOWN_PREKEY);
  }

  @Test
  void sealedPrekeySecretsOpenOnlyUnderTheirKeyAndId() {
    AeadKey key = AeadKey.generate();
    byte[] sealed = c.bobPrekeys.seal(key, "prekeys/agent-1");
    assertThat(InMemoryPrekeySecrets.openSealed(key, "prekeys/agent-1", sealed).toBytes())
        .isEqualTo(c.bobPrekeys.toBytes());
    assertRefused(
        () -> InMemoryPrekeySecrets.openSealed(key, "prekeys/agent-2", sealed),
        MessageRefusal.BAD_TAG);
  }

  @Test
  void everyTruncationTrailingByteDuplicateAndOrphanIsRefused() {
    byte[] bytes = c.bobPrekeys.toBytes();
    assertThat(Mutations.acceptedTruncations("prekeys", bytes, InMemoryPrekeySecrets::fromBytes))
        .isEmpty();
    assertRefused(
        () -> InMemoryPrekeySecrets.fromBytes(Arrays.copyOf(bytes, bytes.length + 1)),
        MessageRefusal.MALFORMED);
    c.bobPrekeys.removeSignedPrekey(7);
    c.bobPrekeys
        .addOneTimePrekey(OneTimePrekey.generate(1))
        .addOneTimePrekey(OneTimePrekey.generate(2));
    byte[] two = c.bobPrekeys.toBytes();
    byte[] duplicate = two.clone();
    duplicate[1 + 4 + 4 + 36 + 3] = 1; // the second one-time prekey's id becomes 1
    assertRefused(() -> InMemoryPrekeySecrets.fromBytes(duplicate), MessageRefusal.MALFORMED);
    byte[] orphan = Arrays.copyOf(two, two.length);
    orphan[orphan.length - 1] = 1; // one seen key, but no signed prekey held
    byte[] withSeen = dev.umbra.crypto.internal.Bytes.concat(orphan, new byte[4 + 32]);
    assertRefused(() -> InMemoryPrekeySecrets.fromBytes(withSeen), MessageRefusal.MALFORMED);
    byte[] v2 = bytes.clone();
    v2[0] = 2;
    assertRefused(() -> InMemoryPrekeySecrets.fromBytes(v2), MessageRefusal.UNKNOWN_VERSION);
  }

  @Test
  void heldPrekeysAreBounded() {
    InMemoryPrekeySecrets p = new InMemoryPrekeySecrets();
    for (int i = 0; i < 16; i++) {
      p.addSignedPrekey(SignedPrekey.generate(i, Conversation.T0, Duration.ofDays(7)));
    }
    assertThatThrownBy(
            () -> p.addSignedPrekey(SignedPrekey.generate(16, Conversation.T0, Duration.ofDays(7))))
        .isInstanceOf(InvalidStateException.class);
    byte[] tooMany = p.toBytes();
    tooMany[4] = 17;
    assertRefused(() -> InMemoryPrekeySecrets.fromBytes(tooMany), MessageRefusal.MALFORMED);
  }
}
