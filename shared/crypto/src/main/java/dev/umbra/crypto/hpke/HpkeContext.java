package dev.umbra.crypto.hpke;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.MalformedInputException;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.hpke.HPKEContext;

/**
 * An HPKE encryption context (RFC 9180 §5.2) wrapping Bouncy Castle's; sequence numbers advance per
 * message. Not thread-safe.
 */
public final class HpkeContext {
  private final HPKEContext context;
  private final byte[] enc;

  HpkeContext(HPKEContext context, byte[] enc) {
    this.context = context;
    this.enc = enc;
  }

  /** The encapsulated key (sender contexts only; null for receivers). */
  public byte[] enc() {
    return enc == null ? null : enc.clone();
  }

  public byte[] seal(byte[] aad, byte[] plaintext) {
    try {
      return context.seal(aad, plaintext);
    } catch (InvalidCipherTextException e) {
      throw new MalformedInputException("HPKE seal failed: " + e.getMessage(), e);
    }
  }

  public byte[] open(byte[] aad, byte[] ciphertext) {
    try {
      return context.open(aad, ciphertext);
    } catch (InvalidCipherTextException | RuntimeException e) {
      throw new AuthenticationFailedException("HPKE ciphertext does not verify");
    }
  }

  /** Secret export (RFC 9180 §5.3). */
  public byte[] export(byte[] exporterContext, int length) {
    return context.export(exporterContext, length);
  }
}
