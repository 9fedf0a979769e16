package dev.umbra.kit.auth;

import java.util.Optional;

/** Who a session token speaks for: a workspace member (person) or a paired machine (daemon). */
public enum SubjectKind {
  MEMBER("member"),
  MACHINE("machine");

  private final String wire;

  SubjectKind(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  public static Optional<SubjectKind> parse(String wire) {
    for (SubjectKind k : values()) {
      if (k.wire.equals(wire)) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }
}
