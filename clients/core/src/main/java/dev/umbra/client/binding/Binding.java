package dev.umbra.client.binding;

import io.vertx.core.json.JsonObject;
import java.util.UUID;

/**
 * One workspace binding of this machine: its own machine id and install id (random per binding, so
 * two workspaces cannot link them), the control plane to talk to, and the name it was paired with.
 */
public record Binding(
    UUID workspaceId,
    UUID machineId,
    UUID installId,
    String controlPlaneUrl,
    String name,
    String pairedAt) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("workspace_id", workspaceId.toString())
        .put("machine_id", machineId.toString())
        .put("install_id", installId.toString())
        .put("control_plane_url", controlPlaneUrl)
        .put("name", name)
        .put("paired_at", pairedAt);
  }

  public static Binding fromJson(JsonObject j) {
    return new Binding(
        UUID.fromString(j.getString("workspace_id")),
        UUID.fromString(j.getString("machine_id")),
        UUID.fromString(j.getString("install_id")),
        j.getString("control_plane_url"),
        j.getString("name"),
        j.getString("paired_at"));
  }
}
