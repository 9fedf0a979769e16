package dev.umbra.crypto.internal;

import dev.umbra.crypto.secret.ConstantTime;

/**
 * Base of typed secret values: immutable, equal in constant time, never printed. The raw bytes
 * leave only through subclasses' explicitly named export methods.
 */
public abstract class SecretBytes {
  private final byte[] bytes;

  protected SecretBytes(byte[] bytes, int length, String what) {
    this.bytes = Bytes.checkedCopy(bytes, length, what);
  }

  /** Direct view for subclasses and internal primitives; never hand it out. */
  protected final byte[] secret() {
    return bytes;
  }

  /** A copy of the secret bytes, for subclasses' explicitly named export methods. */
  protected final byte[] secretCopy() {
    return bytes.clone();
  }

  @Override
  public final boolean equals(Object o) {
    return o != null
        && o.getClass() == getClass()
        && ConstantTime.equals(bytes, ((SecretBytes) o).bytes);
  }

  @Override
  public final int hashCode() {
    return getClass().hashCode();
  }

  @Override
  public final String toString() {
    return getClass().getSimpleName() + "[redacted]";
  }
}
