package dev.umbra.controlplane.runs;

import io.vertx.core.json.JsonArray;
import io.vertx.sqlclient.Row;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * What a run left on the platform (docs/agents.md, "Run records"): ids, times, exit status and byte
 * counts, for an agent session its runtime's configured id (null otherwise), and for a workflow run
 * its definition and step results. Never the command line, its output or its transcript, which stay
 * on the machine.
 */
public record RunRecord(
    UUID id,
    String eventId,
    UUID machineId,
    String kind,
    String runtime,
    String channel,
    String outcome,
    String reason,
    int exitStatus,
    OffsetDateTime startedAt,
    OffsetDateTime endedAt,
    long durationMs,
    long bytesIn,
    long bytesOut,
    Workflow workflow) {

  /**
   * Of a workflow run: the definition's name and version, each step's result ({@code
   * [{id,machine_id,status,exit_status,duration_ms,bytes_in,bytes_out}]}), the run's id and the
   * machines' reports merged into it ({@code [{machine_id,event_id,outcome,reason}]}; the run id
   * and the reports are null for a run reported before runs spanned machines); null for a command
   * run.
   */
  public record Workflow(
      String name, long version, JsonArray steps, String runId, JsonArray reports) {}

  static RunRecord of(Row r) {
    return new RunRecord(
        r.getUUID("id"),
        r.getString("event_id"),
        r.getUUID("machine_id"),
        r.getString("kind"),
        r.getString("runtime"),
        r.getString("channel"),
        r.getString("outcome"),
        r.getString("reason"),
        r.getInteger("exit_status"),
        r.getOffsetDateTime("started_at"),
        r.getOffsetDateTime("ended_at"),
        r.getLong("duration_ms"),
        r.getLong("bytes_in"),
        r.getLong("bytes_out"),
        r.getString("workflow_name") == null
            ? null
            : new Workflow(
                r.getString("workflow_name"),
                r.getLong("workflow_version"),
                (JsonArray) r.getJson("steps"),
                r.getString("run_id"),
                (JsonArray) r.getJson("reports")));
  }
}
