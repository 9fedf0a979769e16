package dev.umbra.daemon.agent;

import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * Where a daemon raises the inbox items its agent sessions' runtimes ask for, and waits for their
 * decisions (docs/agents.md, "Inbox items from a runtime"). Both calls block (a session's own
 * thread calls them).
 */
public interface AgentInbox {

  /**
   * Raises item {@code itemId} (chosen by the daemon, so a repeated request raises nothing more)
   * for session {@code sessionId}: {@code request} holds kind, question, options, default and
   * deadline_seconds.
   */
  void raise(UUID itemId, String sessionId, JsonObject request) throws Failed;

  /** The item after waiting up to {@code waitSeconds} for its decision. */
  State await(UUID itemId, int waitSeconds) throws Failed;

  /** An item's state: {@code open}, {@code decided} or {@code expired}, and its answer. */
  record State(String status, String answer) {
    boolean open() {
      return "open".equals(status);
    }
  }

  /**
   * Why a runtime's inbox request failed: the {@code reason} of its {@code inbox_decision} (docs/
   * agents.md, "Inbox items from a runtime"). The runtime protocol's own codes, not channel or
   * relay reasons, though some are spelled alike.
   */
  enum Reason {
    UNREACHABLE,
    BAD_REQUEST,
    BAD_RESPONSE,
    MACHINE_REFUSED,
    NOT_FOUND,
    REFUSED,
    NO_INBOX,
    LIMIT_REACHED,
    DUPLICATE_ID;

    /** The code on the wire: the lower-case name. */
    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** A call that failed: why, and whether asking again may help. */
  final class Failed extends Exception {
    private final Reason reason;
    private final boolean retryable;

    public Failed(Reason reason, boolean retryable, String message) {
      super(message);
      this.reason = reason;
      this.retryable = retryable;
    }

    public Reason reason() {
      return reason;
    }

    public boolean retryable() {
      return retryable;
    }
  }

  /** No control plane to ask (a daemon without a binding's wiring, tests): every item fails. */
  AgentInbox NONE =
      new AgentInbox() {
        @Override
        public void raise(UUID itemId, String sessionId, JsonObject request) throws Failed {
          throw new Failed(Reason.NO_INBOX, false, "this daemon raises no inbox items");
        }

        @Override
        public State await(UUID itemId, int waitSeconds) throws Failed {
          throw new Failed(Reason.NO_INBOX, false, "this daemon raises no inbox items");
        }
      };
}
