package dev.umbra.daemon.tty;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.umbra.client.tty.TtyFrames;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.crypto.webtty.PayloadSender;
import dev.umbra.crypto.webtty.Stream;
import dev.umbra.proto.webtty.Sealed;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The daemon's receiver rules for input (docs/webtty.md "Receiver rules"), without sockets or a
 * PTY.
 */
class InputGateTest {
  private final KeyId daemon = KeyId.of(X25519KeyPair.generate().publicKey());
  private final KeyId controller = KeyId.of(X25519KeyPair.generate().publicKey());
  private final KeyId viewer = KeyId.of(X25519KeyPair.generate().publicKey());
  private final KeyContext context =
      new KeyContext("ws", "server", "session", List.of(daemon, controller, viewer));
  private final PayloadCipher key = inputKey();
  private final PayloadSender typist = new PayloadSender(key, controller);
  private final InputGate gate = new InputGate();

  private PayloadCipher inputKey() {
    return new PayloadCipher(
        KeyRole.INPUT, PayloadKey.generate(), PayloadKeyId.generate(), context);
  }

  private static Sealed seal(PayloadSender sender, String text) {
    return TtyFrames.toProto(sender.seal(Stream.STDIN, text.getBytes()));
  }

  @Test
  void theControllersKeystrokesUnderTheCurrentKeyOpenInOrder() {
    gate.grant(key, controller);
    assertThat(gate.open(Stream.STDIN, seal(typist, "ls\n")))
        .isInstanceOfSatisfying(
            InputGate.Opened.class, o -> assertThat(o.plaintext()).isEqualTo("ls\n".getBytes()));
    assertThat(gate.open(Stream.STDIN, seal(typist, "pwd\n"))).isInstanceOf(InputGate.Opened.class);
  }

  @Test
  void nothingIsAcceptedWhileNobodyControls() {
    assertThat(gate.open(Stream.STDIN, seal(typist, "x")))
        .isEqualTo(new InputGate.Refused(InputRefusal.NO_CONTROLLER));
  }

  @Test
  void aFrameSeenBeforeIsRefusedAsReplayedAndTheSessionGoesOn() {
    gate.grant(key, controller);
    Sealed once = seal(typist, "rm -rf build\n");
    assertThat(gate.open(Stream.STDIN, once)).isInstanceOf(InputGate.Opened.class);
    assertThat(gate.open(Stream.STDIN, once))
        .isEqualTo(new InputGate.Refused(InputRefusal.REPLAYED));
    assertThat(gate.open(Stream.STDIN, seal(typist, "next"))).isInstanceOf(InputGate.Opened.class);
  }

  @Test
  void aCounterAheadOfTheExpectedOneIsAGapThatNamesWhatIsMissing() {
    gate.grant(key, controller);
    seal(typist, "lost");
    seal(typist, "lost too");
    assertThat(gate.open(Stream.STDIN, seal(typist, "after"))).isEqualTo(new InputGate.Gap(2, 2));
  }

  @Test
  void onlyTheControllerMayTypeEvenWithTheKey() {
    gate.grant(key, controller);
    PayloadSender other = new PayloadSender(key, viewer);
    assertThat(gate.open(Stream.STDIN, seal(other, "x")))
        .isEqualTo(new InputGate.Refused(InputRefusal.WRONG_SENDER));
  }

  @Test
  void keystrokesUnderAnotherKeyAreRefusedAsWrongKey() {
    gate.grant(key, controller);
    PayloadSender elsewhere = new PayloadSender(inputKey(), controller);
    assertThat(gate.open(Stream.STDIN, seal(elsewhere, "x")))
        .isEqualTo(new InputGate.Refused(InputRefusal.WRONG_KEY));
  }

  @Test
  void afterAHandoverThePreviousKeyIsRetiredAndNobodyTypesUntilTheNextGrant() {
    gate.grant(key, controller);
    gate.retire();
    assertThat(gate.controller()).isNull();
    assertThat(gate.retiredKeys()).isEqualTo(1);
    assertThat(gate.open(Stream.STDIN, seal(typist, "x")))
        .isEqualTo(new InputGate.Refused(InputRefusal.RETIRED_KEY));
    PayloadCipher next = inputKey();
    gate.grant(next, viewer);
    assertThat(gate.nextEpoch()).isEqualTo(1);
    assertThat(gate.open(Stream.STDIN, seal(new PayloadSender(next, viewer), "y")))
        .isInstanceOf(InputGate.Opened.class);
    assertThat(gate.open(Stream.STDIN, seal(typist, "x")))
        .isEqualTo(new InputGate.Refused(InputRefusal.RETIRED_KEY));
  }

  @Test
  void aTamperedCiphertextIsMalformed() {
    gate.grant(key, controller);
    Sealed sealed = seal(typist, "echo hi\n");
    byte[] c = sealed.getCiphertext().toByteArray();
    c[0] ^= 1;
    assertThat(
            gate.open(
                Stream.STDIN, sealed.toBuilder().setCiphertext(ByteString.copyFrom(c)).build()))
        .isInstanceOf(InputGate.Malformed.class);
  }
}
