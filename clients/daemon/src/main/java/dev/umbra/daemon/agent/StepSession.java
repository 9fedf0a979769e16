package dev.umbra.daemon.agent;

import java.time.Duration;
import java.util.OptionalInt;

/**
 * An agent session a workflow step started (docs/agents.md, "Agent steps"): it runs like any other
 * session — watchers may attach, its transcript stays on the machine, its end leaves a run record —
 * and the step waits for its exit status.
 */
public interface StepSession {
  /** The session id (what {@code umbra agent-session attach} takes). */
  String id();

  /** Blocking: the runtime's exit status, or empty when {@code wait} passed first. */
  OptionalInt await(Duration wait) throws InterruptedException;

  /** Ends the runtime (its exit is reported as usual). */
  void stop();

  /** Bytes of prompts and approvals given to the runtime (the step's first prompt included). */
  long bytesIn();

  /** Bytes of the runtime's stdout lines. */
  long bytesOut();
}
