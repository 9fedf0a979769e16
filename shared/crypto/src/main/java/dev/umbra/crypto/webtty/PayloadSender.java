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

  /**
   * Seals all of {@code plaintext} straight into {@code out} at {@code outOffset} ({@link
   * PayloadCipher#sealInto}) under {@code counter}, which must be {@link #nextCounter()}: a caller
   * laying out a frame around the ciphertext reads the counter first, under a lock of its own that
   * orders its payloads. Returns the nonce.
   */
  public synchronized byte[] sealInto(
      Stream stream, long counter, byte[] plaintext, byte[] out, int outOffset) {
    if (counter != next) {
      throw new dev.umbra.crypto.InvalidStateException(
          "WebTTY payload counter " + counter + " is not the next one (" + next + ")");
    }
    return cipher.sealInto(stream, sender, next++, plaintext, 0, plaintext.length, out, outOffset);
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
