package dev.umbra.kit.auth;

import java.util.Locale;
import java.util.Optional;

/** A member's role in a workspace, strongest first. Machines carry {@link #MACHINE}. */
public enum Role {
  OWNER(40),
  ADMIN(30),
  MEMBER(20),
  VIEWER(10),
  MACHINE(0);

  private final int rank;

  Role(int rank) {
    this.rank = rank;
  }

  /** True when this role may do what {@code required} may do (machines only match machines). */
  public boolean atLeast(Role required) {
    if (this == MACHINE || required == MACHINE) {
      return this == required;
    }
    return rank >= required.rank;
  }

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses the wire form ({@code owner}, {@code admin}, ...); empty for anything else. */
  public static Optional<Role> parse(String wire) {
    if (wire == null) {
      return Optional.empty();
    }
    for (Role r : values()) {
      if (r.wire().equals(wire)) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }
}
