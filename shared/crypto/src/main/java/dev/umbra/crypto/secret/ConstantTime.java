package dev.umbra.crypto.secret;

import java.security.MessageDigest;

/** Comparisons whose time does not depend on where inputs differ. */
public final class ConstantTime {
  private ConstantTime() {}

  /**
   * True when both arrays have the same length and content. Time depends only on the lengths
   * ({@link MessageDigest#isEqual} is constant time for equal lengths since JDK 6u17).
   */
  public static boolean equals(byte[] a, byte[] b) {
    if (a == null || b == null) {
      return a == b;
    }
    return MessageDigest.isEqual(a, b);
  }
}
