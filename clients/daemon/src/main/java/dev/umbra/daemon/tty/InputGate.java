package dev.umbra.daemon.tty;

import dev.umbra.client.tty.TtyFrames;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadCounters;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.crypto.webtty.SealedPayload;
import dev.umbra.crypto.webtty.Stream;
import dev.umbra.proto.webtty.Sealed;
import java.util.HashSet;
import java.util.Set;

/**
 * Who may type in one session and the receiver rules for what arrives (docs/webtty.md "Receiver
 * rules"): the current input key and its controller (none while nobody has control), the keys
 * retired by handovers, and the input counters. Used on the Vert.x context only, in frame order.
 */
final class InputGate {
  /** What {@link #open} made of a stdin or resize payload. */
  sealed interface Outcome {}

  /** Opened, in order: its plaintext goes to the PTY. */
  record Opened(byte[] plaintext) implements Outcome {}

  /** Dropped, counted; the session goes on. */
  record Refused(InputRefusal why) implements Outcome {}

  /** Malformed, v1 or a bad tag: the session ends ({@code bad_frame}). */
  record Malformed() implements Outcome {}

  /**
   * A counter ahead of the expected one (keystrokes lost or reordered): the session ends ({@code
   * input_gap}).
   */
  record Gap(long missing, long counter) implements Outcome {}

  private PayloadCipher key;
  private KeyId controller;
  private long epoch;
  private final Set<PayloadKeyId> retired = new HashSet<>();
  private final PayloadCounters counters = PayloadCounters.fromZero();

  /**
   * The receiver rules, in this order:
   *
   * <ul>
   *   <li>malformed: {@link Malformed};
   *   <li>not under the current input key (the previous controller's retired key, the output key
   *       every recipient holds, an unknown key) or not from the current controller: {@link
   *       Refused};
   *   <li>a bad tag (also a replay relabelled with another counter): {@link Malformed};
   *   <li>a counter already seen or older (a replay, a step back): {@link Refused} as replayed;
   *   <li>a counter ahead of the expected one: {@link Gap}, since running what follows lost
   *       keystrokes changes its meaning.
   * </ul>
   */
  Outcome open(Stream stream, Sealed sealed) {
    SealedPayload p;
    try {
      p = TtyFrames.fromProto(stream, sealed);
    } catch (CryptoException | IllegalArgumentException e) {
      return new Malformed();
    }
    if (key == null || !p.payloadKeyId().equals(key.keyId())) {
      return new Refused(
          retired.contains(p.payloadKeyId())
              ? InputRefusal.RETIRED_KEY
              : key == null ? InputRefusal.NO_CONTROLLER : InputRefusal.WRONG_KEY);
    }
    if (!p.senderKeyId().equals(controller)) {
      return new Refused(InputRefusal.WRONG_SENDER);
    }
    byte[] plain;
    try {
      plain = key.open(p);
    } catch (CryptoException | IllegalArgumentException e) {
      return new Malformed();
    }
    PayloadCounters.Verdict v = counters.observe(p);
    return switch (v.kind()) {
      case REPEAT -> new Refused(InputRefusal.REPLAYED);
      case GAP -> new Gap(v.missing(), v.counter());
      case IN_ORDER -> new Opened(plain);
    };
  }

  /** {@code controller} types with {@code key} from now on (epoch 0: the opener's own key). */
  void grant(PayloadCipher key, KeyId controller) {
    this.key = key;
    this.controller = controller;
  }

  /**
   * Control changed: the current key is retired (what arrives under it is refused) and nobody
   * types.
   */
  void retire() {
    if (key != null) {
      retired.add(key.keyId());
    }
    key = null;
    controller = null;
  }

  /** The number of the next handover's input key epoch (the opener's is 0). */
  long nextEpoch() {
    return ++epoch;
  }

  /** The key id of who may type now, or null. */
  KeyId controller() {
    return controller;
  }

  /** The current input key's id, or null. */
  PayloadKeyId keyId() {
    return key == null ? null : key.keyId();
  }

  /** The next counter expected from the current controller under the current key (0: none yet). */
  long expected() {
    return key == null || controller == null ? 0 : counters.expected(key.keyId(), controller);
  }

  /** How many input keys handovers have retired (each keeps its counters' stream). */
  int retiredKeys() {
    return retired.size();
  }
}
