package dev.umbra.crypto.webtty;

/**
 * The sending side of one WebTTY key: seals as {@code sender} with a counter that starts at 0 and
 * grows by one per payload, so every receiver can tell a repeat, a step back or a gap ({@link
 * PayloadCounters}). Thread-safe (the counter and the cipher are used under one lock).
 */
public final class PayloadSender {
  private final PayloadCipher cipher;
  private final KeyId sender;
  private long next;

  public PayloadSender(PayloadCipher cipher, KeyId sender) {
    this.cipher = cipher;
    this.sender = sender;
  }

  public synchronized SealedPayload seal(Stream stream, byte[] plaintext) {
    return cipher.seal(stream, sender, next++, plaintext);
  }

  public PayloadKeyId keyId() {
    return cipher.keyId();
  }

  public KeyId sender() {
    return sender;
  }

  /** The counter the next payload gets. */
  public synchronized long nextCounter() {
    return next;
  }
}
