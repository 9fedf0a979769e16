package dev.umbra.controlplane.messaging;

import dev.umbra.kit.audit.AuditActor;
import java.util.UUID;

/**
 * Who speaks on a messaging route or socket, as checked in PostgreSQL for the request: a trusted
 * device of a member ({@code accountId} set) or an approved agent ({@code machineId} set).
 */
public record Party(UUID workspaceId, Kind kind, UUID id, UUID accountId, UUID machineId) {
  /** Who it is in audit events: an agent's machine, or the device. */
  public AuditActor auditActor() {
    return kind == Kind.AGENT
        ? AuditActor.machine(machineId.toString())
        : AuditActor.device(id.toString());
  }

  /** The two kinds of principal that hold messaging keys. */
  public enum Kind {
    DEVICE("device"),
    AGENT("agent");

    private final String wire;

    Kind(String wire) {
      this.wire = wire;
    }

    public String wire() {
      return wire;
    }

    public Kind peer() {
      return this == DEVICE ? AGENT : DEVICE;
    }
  }
}
