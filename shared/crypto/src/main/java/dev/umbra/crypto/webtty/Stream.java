package dev.umbra.crypto.webtty;

import dev.umbra.crypto.MalformedInputException;

/**
 * The terminal stream a WebTTY payload belongs to; its wire name is bound into the payload AAD, and
 * it fixes the key role: stdout and stderr travel under the output key, stdin and resize (the
 * plaintext of a resize is {@code u32be(cols) u32be(rows)}) under the input key.
 */
public enum Stream {
  STDIN("stdin", KeyRole.INPUT),
  STDOUT("stdout", KeyRole.OUTPUT),
  STDERR("stderr", KeyRole.OUTPUT),
  RESIZE("resize", KeyRole.INPUT);

  private final String wireName;
  private final KeyRole role;

  Stream(String wireName, KeyRole role) {
    this.wireName = wireName;
    this.role = role;
  }

  public String wireName() {
    return wireName;
  }

  /** The key role that may seal this stream. */
  public KeyRole role() {
    return role;
  }

  public static Stream fromWireName(String name) {
    for (Stream s : values()) {
      if (s.wireName.equals(name)) {
        return s;
      }
    }
    throw new MalformedInputException("unknown WebTTY stream: " + name);
  }
}
