package dev.umbra.crypto.messaging;

import static dev.umbra.crypto.messaging.Conversation.text;
import static dev.umbra.crypto.messaging.Conversation.utf8;
import static dev.umbra.crypto.messaging.X3dhTest.assertRefused;
import static org.assertj.core.api.Assertions.assertThat;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.testing.Mutations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DoubleRatchetTest {
  private final Conversation c = Conversation.started();

  @Test
  void aConversationInBothDirectionsWithSeveralDhStepsOpensEveryMessage() {
    for (int round = 0; round < 5; round++) {
      for (int i = 0; i < 3; i++) {
        String a = "alice " + round + "." + i;
        assertThat(text(c.bobSession.decrypt(c.aliceSession.encrypt(utf8(a)).encode())))
            .isEqualTo(a);
      }
      for (int i = 0; i < 2; i++) {
        String b = "bob " + round + "." + i;
        assertThat(text(c.aliceSession.decrypt(c.bobSession.encrypt(utf8(b)).encode())))
            .isEqualTo(b);
      }
    }
    assertThat(c.aliceSession.skippedKeyCount()).isZero();
    assertThat(c.bobSession.skippedKeyCount()).isZero();
  }

  @Test
  void eachDhStepChangesTheSendersRatchetKey() {
    RatchetMessage b1 = c.bobSession.encrypt(utf8("b1"));
    c.aliceSession.decrypt(b1);
    RatchetMessage a1 = c.aliceSession.encrypt(utf8("a1"));
    c.bobSession.decrypt(a1);
    RatchetMessage b2 = c.bobSession.encrypt(utf8("b2"));
    assertThat(b2.header().dh()).isNotEqualTo(b1.header().dh());
    assertThat(a1.header().dh()).isNotEqualTo(c.initial.message().header().dh());
    assertThat(b2.header().pn()).isEqualTo(1);
    assertThat(b2.header().n()).isZero();
  }

  @Test
  void outOfOrderDeliveryAcrossDhStepsOpensEveryMessageExactlyOnce() {
    List<RatchetMessage> first = encrypt(c.aliceSession, "a", 4);
    c.bobSession.decrypt(first.get(3));
    assertThat(c.bobSession.skippedKeyCount()).isEqualTo(3);
    RatchetMessage reply = c.bobSession.encrypt(utf8("reply"));
    c.aliceSession.decrypt(reply);
    List<RatchetMessage> second = encrypt(c.aliceSession, "c", 3);
    assertThat(text(c.bobSession.decrypt(second.get(2)))).isEqualTo("c2");
    assertThat(text(c.bobSession.decrypt(first.get(1)))).isEqualTo("a1");
    assertThat(text(c.bobSession.decrypt(second.get(0)))).isEqualTo("c0");
    assertThat(text(c.bobSession.decrypt(first.get(0)))).isEqualTo("a0");
    assertThat(text(c.bobSession.decrypt(first.get(2)))).isEqualTo("a2");
    assertThat(text(c.bobSession.decrypt(second.get(1)))).isEqualTo("c1");
    assertThat(c.bobSession.skippedKeyCount()).isZero();
    for (RatchetMessage m : first) {
      assertRefused(() -> c.bobSession.decrypt(m), MessageRefusal.REPLAYED);
    }
  }

  @Test
  void aReplayedMessageIsRefusedAsReplayedWhetherCurrentSkippedOrOfAClosedChain() {
    RatchetMessage a1 = c.aliceSession.encrypt(utf8("a1"));
    RatchetMessage a2 = c.aliceSession.encrypt(utf8("a2"));
    c.bobSession.decrypt(a2);
    c.bobSession.decrypt(a1);
    assertRefused(() -> c.bobSession.decrypt(a2), MessageRefusal.REPLAYED);
    assertRefused(() -> c.bobSession.decrypt(a1), MessageRefusal.REPLAYED);
    assertRefused(() -> c.bobSession.decrypt(c.initial.message()), MessageRefusal.REPLAYED);
    c.aliceSession.decrypt(c.bobSession.encrypt(utf8("b")));
    c.bobSession.decrypt(c.aliceSession.encrypt(utf8("a3")));
    assertRefused(() -> c.bobSession.decrypt(a2), MessageRefusal.REPLAYED);
  }

  @Test
  void anyTamperedHeaderOrCiphertextBitOrTruncationIsRefusedAndLeavesTheStateUnchanged() {
    c.aliceSession.encrypt(utf8("lost"));
    byte[] m = c.aliceSession.encrypt(utf8("hello")).encode();
    byte[] before = c.bobSession.toBytes();
    List<String> accepted =
        new ArrayList<>(Mutations.acceptedBitFlips("message", m, c.bobSession::decrypt));
    accepted.addAll(Mutations.acceptedTruncations("message", m, c.bobSession::decrypt));
    assertThat(accepted).isEmpty();
    assertThat(c.bobSession.toBytes()).isEqualTo(before);
    assertThat(text(c.bobSession.decrypt(m))).isEqualTo("hello");
  }

  @Test
  void aTamperedMessageCarryingANewRatchetKeyIsRefusedWithoutAStep() {
    RatchetMessage b = c.bobSession.encrypt(utf8("b"));
    byte[] encoded = b.encode();
    encoded[encoded.length - 1] ^= 1;
    byte[] before = c.aliceSession.toBytes();
    assertRefused(() -> c.aliceSession.decrypt(encoded), MessageRefusal.BAD_TAG);
    assertThat(c.aliceSession.toBytes()).isEqualTo(before);
    assertThat(text(c.aliceSession.decrypt(b))).isEqualTo("b");
  }

  @Test
  void aTamperedCopyOfASkippedMessageLeavesItsKeyInPlace() {
    RatchetMessage a1 = c.aliceSession.encrypt(utf8("a1"));
    c.bobSession.decrypt(c.aliceSession.encrypt(utf8("a2")));
    byte[] forged = a1.encode();
    forged[forged.length - 1] ^= 0x40;
    assertRefused(() -> c.bobSession.decrypt(forged), MessageRefusal.BAD_TAG);
    assertThat(c.bobSession.skippedKeyCount()).isEqualTo(1);
    assertThat(text(c.bobSession.decrypt(a1))).isEqualTo("a1");
  }

  @Test
  void aLowOrderRatchetKeyInAHeaderIsRefusedAsMalformed() {
    RatchetMessage m = c.aliceSession.encrypt(utf8("x"));
    RatchetMessage lowOrder =
        new RatchetMessage(
            new RatchetHeader(dev.umbra.crypto.keys.X25519PublicKey.fromBytes(new byte[32]), 0, 0),
            m.ciphertext());
    byte[] before = c.bobSession.toBytes();
    assertRefused(() -> c.bobSession.decrypt(lowOrder.encode()), MessageRefusal.MALFORMED);
    assertThat(c.bobSession.toBytes()).isEqualTo(before);
  }

  @Test
  void aHeaderWithTheLastUint32CounterIsRefusedAsMalformed() {
    RatchetMessage m = c.aliceSession.encrypt(utf8("x"));
    RatchetMessage last =
        new RatchetMessage(
            new RatchetHeader(m.header().dh(), m.header().pn(), 0xffffffffL), m.ciphertext());
    assertRefused(() -> c.bobSession.decrypt(last), MessageRefusal.MALFORMED);
    assertThat(text(c.bobSession.decrypt(m))).isEqualTo("x");
  }

  @Test
  void theResponderCannotSendBeforeItsFirstDecryption() {
    RatchetSession fresh =
        RatchetSession.responder(
            RootSecret.fromBytes(new byte[32]),
            c.aliceSession.associatedData(),
            X25519KeyPair.generate(),
            c.options);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> fresh.encrypt(utf8("too early")))
        .isInstanceOf(dev.umbra.crypto.InvalidStateException.class);
  }

  @Test
  void aMessageUnderOtherAssociatedDataIsRefused() {
    RootSecret sk = RootSecret.fromBytes(new byte[32]);
    X25519KeyPair spk = X25519KeyPair.generate();
    IdentityKeyPair other = IdentityKeyPair.withFreshDhKey(Ed25519KeyPair.generate());
    SessionAd ad = SessionAd.of(c.alice.publicIdentity(), c.bob.publicIdentity());
    SessionAd otherAd = SessionAd.of(c.alice.publicIdentity(), other.publicIdentity());
    RatchetSession sender = RatchetSession.initiator(sk, ad, spk.publicKey(), c.options);
    RatchetMessage m = sender.encrypt(utf8("x"));
    assertRefused(
        () -> RatchetSession.responder(sk, otherAd, spk, c.options).decrypt(m),
        MessageRefusal.BAD_TAG);
    assertThat(text(RatchetSession.responder(sk, ad, spk, c.options).decrypt(m))).isEqualTo("x");
  }

  @Test
  void aMessageSkippingMoreThanMaxSkipKeysIsRefusedAndOneAtTheLimitOpens() {
    List<RatchetMessage> ms = encrypt(c.aliceSession, "m", CryptoConstants.MSG_MAX_SKIP + 2);
    byte[] before = c.bobSession.toBytes();
    assertRefused(
        () -> c.bobSession.decrypt(ms.get(CryptoConstants.MSG_MAX_SKIP + 1)),
        MessageRefusal.TOO_MANY_SKIPPED);
    assertThat(c.bobSession.toBytes()).isEqualTo(before);
    assertThat(text(c.bobSession.decrypt(ms.get(CryptoConstants.MSG_MAX_SKIP))))
        .isEqualTo("m" + CryptoConstants.MSG_MAX_SKIP);
    assertThat(c.bobSession.skippedKeyCount()).isEqualTo(CryptoConstants.MSG_MAX_SKIP);
  }

  @Test
  void aPreviousChainLengthBeyondMaxSkipIsRefused() {
    RatchetSession bob =
        RatchetSession.fromBytes(
            c.bobSession.toBytes(),
            c.options.withLimits(new RatchetLimits(5, 10, Duration.ofDays(1))));
    encrypt(c.aliceSession, "lost", 7);
    c.aliceSession.decrypt(bob.encrypt(utf8("b")));
    RatchetMessage next = c.aliceSession.encrypt(utf8("after"));
    assertThat(next.header().pn()).isEqualTo(8);
    assertRefused(() -> bob.decrypt(next), MessageRefusal.TOO_MANY_SKIPPED);
  }

  @Test
  void theTotalOfSkippedKeysIsCappedByDeletingTheOldest() {
    RatchetSession bob =
        RatchetSession.fromBytes(
            c.bobSession.toBytes(),
            c.options.withLimits(new RatchetLimits(4, 6, Duration.ofDays(1))));
    List<RatchetMessage> ms = encrypt(c.aliceSession, "m", 10);
    bob.decrypt(ms.get(4));
    bob.decrypt(ms.get(9));
    assertThat(bob.skippedKeyCount()).isEqualTo(6);
    assertRefused(() -> bob.decrypt(ms.get(0)), MessageRefusal.REPLAYED);
    assertRefused(() -> bob.decrypt(ms.get(1)), MessageRefusal.REPLAYED);
    assertThat(text(bob.decrypt(ms.get(2)))).isEqualTo("m2");
  }

  @Test
  void skippedKeysExpireAndAreDeletedAfterTheirMaximumAge() {
    List<RatchetMessage> ms = encrypt(c.aliceSession, "m", 3);
    c.bobSession.decrypt(ms.get(2));
    assertThat(c.bobSession.skippedKeyCount()).isEqualTo(2);
    c.clock.advance(Duration.ofSeconds(CryptoConstants.MSG_SKIPPED_KEY_MAX_AGE_SECONDS - 1));
    assertThat(c.bobSession.purgeExpiredSkippedKeys()).isZero();
    assertThat(text(c.bobSession.decrypt(ms.get(0)))).isEqualTo("m0");
    c.clock.advance(Duration.ofSeconds(1));
    assertRefused(() -> c.bobSession.decrypt(ms.get(1)), MessageRefusal.REPLAYED);
    assertThat(c.bobSession.skippedKeyCount()).isZero();
  }

  @Test
  void forwardSecrecyASnapshotAfterDecryptingMessageKCannotDecryptMessagesUpToK() {
    List<RatchetMessage> ms = encrypt(c.aliceSession, "m", 6);
    c.bobSession.decrypt(ms.get(0));
    c.bobSession.decrypt(ms.get(2));
    c.bobSession.decrypt(ms.get(1));
    byte[] snapshot = c.bobSession.toBytes();
    RatchetSession stolen = RatchetSession.fromBytes(snapshot, c.options);
    assertRefused(() -> stolen.decrypt(c.initial.message()), MessageRefusal.REPLAYED);
    for (int k = 0; k <= 2; k++) {
      RatchetMessage m = ms.get(k);
      assertRefused(() -> stolen.decrypt(m), MessageRefusal.REPLAYED);
    }
    assertThat(text(stolen.decrypt(ms.get(3)))).as("the snapshot is a real state").isEqualTo("m3");
  }

  @Test
  void postCompromiseASnapshotTakenBeforeADhStepCannotDecryptAfterThePeersNextStep() {
    byte[] snapshot = c.bobSession.toBytes();
    c.aliceSession.decrypt(c.bobSession.encrypt(utf8("b1")));
    RatchetMessage compromised = c.aliceSession.encrypt(utf8("under bob's old key"));
    assertThat(text(c.bobSession.decrypt(compromised))).isEqualTo("under bob's old key");
    RatchetSession stolen = RatchetSession.fromBytes(snapshot, c.options);
    assertThat(text(stolen.decrypt(compromised)))
        .as("the snapshot is a real compromise until bob steps")
        .isEqualTo("under bob's old key");
    c.aliceSession.decrypt(c.bobSession.encrypt(utf8("b2, a fresh ratchet key")));
    RatchetMessage healed = c.aliceSession.encrypt(utf8("after the steps"));
    assertThat(text(c.bobSession.decrypt(healed))).isEqualTo("after the steps");
    assertRefused(() -> stolen.decrypt(healed), MessageRefusal.BAD_TAG);
    RatchetSession fresh = RatchetSession.fromBytes(snapshot, c.options);
    assertRefused(() -> fresh.decrypt(healed), MessageRefusal.BAD_TAG);
  }

  @Test
  void aPlaintextOverTheLimitIsRefused() {
    assertRefused(
        () -> c.aliceSession.encrypt(new byte[CryptoConstants.MSG_MAX_PLAINTEXT_LENGTH + 1]),
        MessageRefusal.TOO_LARGE);
    assertRefused(
        () -> RatchetMessage.parse(new byte[RatchetMessage.MAX_LENGTH + 1]),
        MessageRefusal.TOO_LARGE);
    byte[] max = new byte[CryptoConstants.MSG_MAX_PLAINTEXT_LENGTH];
    assertThat(c.bobSession.decrypt(c.aliceSession.encrypt(max).encode())).isEqualTo(max);
  }

  @Test
  void headersEncodeToTheDocumentedFortyOneBytes() {
    RatchetMessage m = c.aliceSession.encrypt(utf8("abc"));
    byte[] h = m.header().encode();
    assertThat(h).hasSize(41);
    assertThat(h[0]).isEqualTo((byte) 1);
    assertThat(RatchetHeader.parse(h)).isEqualTo(m.header());
    assertThat(m.encode()).hasSize(41 + 3 + 16);
    h[0] = 2;
    assertRefused(() -> RatchetHeader.parse(h), MessageRefusal.UNKNOWN_VERSION);
    byte[] highBit = m.header().encode();
    highBit[32] |= (byte) 0x80;
    assertRefused(() -> RatchetHeader.parse(highBit), MessageRefusal.MALFORMED);
  }

  private static List<RatchetMessage> encrypt(RatchetSession s, String prefix, int n) {
    List<RatchetMessage> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(s.encrypt(utf8(prefix + i)));
    }
    return out;
  }
}
