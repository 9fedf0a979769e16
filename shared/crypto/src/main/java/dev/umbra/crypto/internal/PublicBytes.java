package dev.umbra.crypto.internal;

import java.util.Arrays;

/**
 * Base of typed public values that are fixed byte strings: immutable, equal by content, printed as
 * hex.
 */
public abstract class PublicBytes {
  private final byte[] bytes;

  protected PublicBytes(byte[] bytes, int length, String what) {
    this.bytes = Bytes.checkedCopy(bytes, length, what);
  }

  /** The encoded value (a copy). */
  public byte[] toBytes() {
    return bytes.clone();
  }

  /** Lowercase hex of {@link #toBytes()}. */
  public String toHex() {
    return Bytes.hex(bytes);
  }

  /** Direct view for subclasses; never hand it out. */
  protected byte[] raw() {
    return bytes;
  }

  @Override
  public boolean equals(Object o) {
    return o != null && o.getClass() == getClass() && Arrays.equals(bytes, ((PublicBytes) o).bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + toHex() + "]";
  }
}
