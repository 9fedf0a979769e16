package dev.umbra.kit.auth;

import java.util.Optional;

/**
 * Who a session token speaks for: a workspace member (person), a paired machine (daemon), or an
 * approved agent (owner-agent messaging; its tokens are only for the control plane).
 */
public enum SubjectKind {
  MEMBER("member"),
  MACHINE("machine"),
  AGENT("agent");

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
