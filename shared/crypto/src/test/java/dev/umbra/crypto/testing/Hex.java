package dev.umbra.crypto.testing;

import java.util.HexFormat;

public final class Hex {
  private Hex() {}

  public static byte[] d(String hex) {
    return HexFormat.of().parseHex(hex);
  }

  public static String e(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }
}
