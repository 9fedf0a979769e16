package dev.umbra.webtty.session.model;

import dev.umbra.proto.webtty.WebTtyReason;
import java.util.Set;

/**
 * What the session model decided about one input (docs/webtty.md, "Engine internals"). The model
 * only decides and updates its own state; the session home turns a decision into frames, recording
 * rows, audit events and metrics.
 */
public sealed interface Decision {

  /** Go ahead: the state has changed as asked. */
  record Accepted() implements Decision {}

  /** Nothing to do and nothing to say (the controller asking for control). */
  record Ignored() implements Decision {}

  /** Refused: the sender hears REFUSED with the reason and stays in the session. */
  record Refused(WebTtyReason reason) implements Decision {}

  /**
   * A protocol violation: the sender hears ERROR with the reason and leaves (a participant is
   * removed; a server's connection closes).
   */
  record Rejected(WebTtyReason reason) implements Decision {}

  /** Someone joined (JOIN) or came back (ATTACH); {@code control} when they hold control now. */
  record Joined(Participant participant, boolean control) implements Decision {}

  /**
   * The same participant came back on a new connection while the home still listed the old one
   * ({@code replaced}, whose edge never said goodbye): the newcomer holds its role and stdin
   * counter; {@code lastStdinSequence} is the last stdin frame the home took from it (0: none).
   */
  record Rejoined(Participant participant, Participant replaced, long lastStdinSequence)
      implements Decision {}

  /** Control moved to {@code to}; {@code by} asked for it. */
  record ControlChanged(Participant to, Participant by) implements Decision {}

  /** A share: the output key changed, these recipients (key ids, hex) may join from now on. */
  record Shared(Set<String> recipients) implements Decision {}

  Decision ACCEPTED = new Accepted();
  Decision IGNORED = new Ignored();

  static Decision refused(WebTtyReason reason) {
    return new Refused(reason);
  }

  static Decision rejected(WebTtyReason reason) {
    return new Rejected(reason);
  }
}
