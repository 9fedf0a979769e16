package dev.umbra.crypto.messaging;

import static dev.umbra.crypto.messaging.Conversation.text;
import static dev.umbra.crypto.messaging.Conversation.utf8;
import static dev.umbra.crypto.messaging.X3dhTest.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.aead.AeadKey;
import dev.umbra.crypto.testing.Mutations;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SessionStateTest {
  private final Conversation c = Conversation.started();

  private byte[] stateWithSkippedKeysAndRetiredChains() {
    c.aliceSession.decrypt(c.bobSession.encrypt(utf8("b")));
    c.aliceSession.encrypt(utf8("lost 1"));
    c.aliceSession.encrypt(utf8("lost 2"));
    c.bobSession.decrypt(c.aliceSession.encrypt(utf8("a")));
    return c.bobSession.toBytes();
  }

  @Test
  void aStateRoundTripsToTheSameBytesAndTheSessionContinues() {
    byte[] state = stateWithSkippedKeysAndRetiredChains();
    assertThat(c.bobSession.skippedKeyCount()).isEqualTo(2);
    RatchetSession restored = RatchetSession.fromBytes(state, c.options);
    assertThat(restored.toBytes()).isEqualTo(state);
    assertThat(text(restored.decrypt(c.aliceSession.encrypt(utf8("next"))))).isEqualTo("next");
    assertThat(text(c.aliceSession.decrypt(restored.encrypt(utf8("reply"))))).isEqualTo("reply");
  }

  @Test
  void everyTruncationTrailingByteAndUnknownVersionOfAStateIsRefused() {
    byte[] state = stateWithSkippedKeysAndRetiredChains();
    assertThat(
            Mutations.acceptedTruncations(
                "state", state, s -> RatchetSession.fromBytes(s, c.options)))
        .isEmpty();
    byte[] longer = Arrays.copyOf(state, state.length + 1);
    assertRefused(() -> RatchetSession.fromBytes(longer, c.options), MessageRefusal.MALFORMED);
    byte[] v2 = state.clone();
    v2[0] = 2;
    assertRefused(() -> RatchetSession.fromBytes(v2, c.options), MessageRefusal.UNKNOWN_VERSION);
  }

  @Test
  void aStateClaimingMoreSkippedKeysThanTheCapIsRefusedBeforeReadingThem() {
    byte[] state = c.bobSession.toBytes();
    byte[] oversized = state.clone();
    int countAt = state.length - 4;
    oversized[countAt] = 0x7f;
    assertRefused(() -> RatchetSession.fromBytes(oversized, c.options), MessageRefusal.MALFORMED);
    byte[] badFlag = state.clone();
    badFlag[1 + 128 + 32 + 32] = 2;
    assertRefused(() -> RatchetSession.fromBytes(badFlag, c.options), MessageRefusal.MALFORMED);
  }

  @Test
  void aSealedStateOpensOnlyUnderItsStorageKeyAndStateId() {
    byte[] state = stateWithSkippedKeysAndRetiredChains();
    AeadKey key = AeadKey.generate();
    byte[] sealed = c.bobSession.seal(key, "session/alice-device-1");
    assertThat(new String(sealed, java.nio.charset.StandardCharsets.ISO_8859_1))
        .doesNotContain(
            new String(
                Arrays.copyOfRange(state, 1, 60), java.nio.charset.StandardCharsets.ISO_8859_1));
    RatchetSession opened =
        RatchetSession.openSealed(key, "session/alice-device-1", sealed, c.options);
    assertThat(opened.toBytes()).isEqualTo(state);
    assertRefused(
        () -> RatchetSession.openSealed(key, "session/alice-device-2", sealed, c.options),
        MessageRefusal.BAD_TAG);
    assertRefused(
        () ->
            RatchetSession.openSealed(
                AeadKey.generate(), "session/alice-device-1", sealed, c.options),
        MessageRefusal.BAD_TAG);
    byte[] v2 = sealed.clone();
    v2[0] = 2;
    assertRefused(
        () -> SealedSessionState.open(key, "session/alice-device-1", v2),
        MessageRefusal.UNKNOWN_VERSION);
    assertRefused(
        () -> SealedSessionState.open(key, "s", new byte[(1 << 20) + 1]), MessageRefusal.TOO_LARGE);
  }

  @Test
  void everyBitFlipAndTruncationOfASealedStateIsRefused() {
    AeadKey key = AeadKey.generate();
    byte[] sealed = c.bobSession.seal(key, "s");
    List<String> accepted =
        new ArrayList<>(
            Mutations.acceptedBitFlips(
                "sealed", sealed, s -> SealedSessionState.open(key, "s", s)));
    accepted.addAll(
        Mutations.acceptedTruncations("sealed", sealed, s -> SealedSessionState.open(key, "s", s)));
    assertThat(accepted).isEmpty();
  }
}
