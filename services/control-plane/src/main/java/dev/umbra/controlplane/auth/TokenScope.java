package dev.umbra.controlplane.auth;

import java.util.Optional;

/**
 * What an API token may do: everything its account may ({@code full}), or only read ({@code read}).
 */
public enum TokenScope {
  FULL("full"),
  READ("read");

  private final String wire;

  TokenScope(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  public static Optional<TokenScope> parse(String s) {
    for (TokenScope t : values()) {
      if (t.wire.equals(s)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }
}
