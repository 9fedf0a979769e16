package dev.umbra.client.channel;

/**
 * A channel ended abnormally; {@link #code()} is the machine-readable reason (e.g. {@code
 * decrypt_failed}).
 */
public final class ChannelClosedException extends RuntimeException {
  private final String code;

  public ChannelClosedException(String code, String message) {
    super(message);
    this.code = code;
  }

  public String code() {
    return code;
  }
}
