package dev.umbra.crypto.messaging;

import dev.umbra.crypto.CryptoException;
import java.util.Objects;

/**
 * A messaging input was refused; {@link #reason()} says why. Messages never carry secret values.
 */
public final class MessageRefusedException extends CryptoException {
  private final MessageRefusal reason;

  public MessageRefusedException(MessageRefusal reason, String message) {
    super(reason + ": " + message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public MessageRefusal reason() {
    return reason;
  }
}
