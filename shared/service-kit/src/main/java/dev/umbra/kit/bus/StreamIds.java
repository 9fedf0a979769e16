package dev.umbra.kit.bus;

/** Stream entry ids ({@code <ms>-<seq>}), parsed and compared the way Redis does. */
final class StreamIds {
  private StreamIds() {}

  static long[] parse(String id) {
    int dash = id == null ? -1 : id.indexOf('-');
    if (dash <= 0 || dash == id.length() - 1 || id.length() > 41) {
      throw new IllegalArgumentException("not a stream entry id");
    }
    try {
      return new long[] {
        Long.parseUnsignedLong(id.substring(0, dash)),
        Long.parseUnsignedLong(id.substring(dash + 1))
      };
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a stream entry id");
    }
  }

  static int compare(long[] a, long[] b) {
    int c = Long.compareUnsigned(a[0], b[0]);
    return c != 0 ? c : Long.compareUnsigned(a[1], b[1]);
  }
}
