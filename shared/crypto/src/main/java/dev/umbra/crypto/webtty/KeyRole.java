package dev.umbra.crypto.webtty;

import dev.umbra.crypto.MalformedInputException;

/**
 * What a WebTTY payload key is for (v2, docs/webtty.md "Split keys"): the <b>output</b> key seals
 * stdout/stderr and is granted to every recipient; the <b>input</b> key seals stdin and resizes and
 * is held only by the daemon and the current controller. The role's wire name is bound into both
 * the grant (HPKE info and aad) and every payload's AAD, so one key cannot pass for the other.
 */
public enum KeyRole {
  OUTPUT("output"),
  INPUT("input");

  private final String wireName;

  KeyRole(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }

  public static KeyRole fromWireName(String name) {
    for (KeyRole r : values()) {
      if (r.wireName.equals(name)) {
        return r;
      }
    }
    throw new MalformedInputException("unknown WebTTY key role: " + name);
  }
}
