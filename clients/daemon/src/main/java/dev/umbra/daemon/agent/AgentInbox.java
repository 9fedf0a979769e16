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

  /** A call that failed: a short code, and whether asking again may help. */
  final class Failed extends Exception {
    private final String code;
    private final boolean retryable;

    public Failed(String code, boolean retryable, String message) {
      super(message);
      this.code = code;
      this.retryable = retryable;
    }

    public String code() {
      return code;
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
          throw new Failed("no_inbox", false, "this daemon raises no inbox items");
        }

        @Override
        public State await(UUID itemId, int waitSeconds) throws Failed {
          throw new Failed("no_inbox", false, "this daemon raises no inbox items");
        }
      };
}
