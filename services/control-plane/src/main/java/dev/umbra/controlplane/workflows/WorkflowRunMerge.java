package dev.umbra.controlplane.workflows;

import dev.umbra.controlplane.db.Rows;
import dev.umbra.controlplane.errors.Refusal;
import dev.umbra.controlplane.errors.Refusal.Conflict.Reason;
import dev.umbra.controlplane.http.Ids;
import dev.umbra.controlplane.runs.RunRecord;
import dev.umbra.controlplane.runs.RunStore;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.workflow.WorkflowDefinition;
import dev.umbra.crypto.workflow.WorkflowRunReport;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

/**
 * One run record per workflow run, whichever machines ran it (docs/agents.md, "Workflow runs"):
 * each machine reports its own steps, signed by its binding key, under the run id the client chose;
 * this merges a verified report into the record of its run id, in the report's transaction (the row
 * locked), and refuses (409, nothing stored, nothing audited) a step that does not name the
 * reporting machine ({@code wrong_machine}), a step already reported ({@code duplicate_step}), or a
 * version or workflow other than the run's ({@code version_mismatch}). A report already merged
 * (same event id) changes nothing. The run id is only ever looked up under the report's workspace
 * (row-level security): another workspace's run of the same id is another record.
 */
final class WorkflowRunMerge {
  static final int MAX_REPORTS = 50;

  private final Clock clock;
  private final RunStore runs;
  private final WorkflowStore workflows;
  private final Ids ids;

  WorkflowRunMerge(Clock clock, RunStore runs, WorkflowStore workflows, Ids ids) {
    this.clock = clock;
    this.runs = runs;
    this.workflows = workflows;
    this.ids = ids;
  }

  /** Merges {@code r}; true when it is new, false when this report was merged already. */
  Future<Boolean> merge(SqlConnection conn, UUID wid, UUID machineId, WorkflowRunReport r) {
    return stepsNameThisMachine(conn, machineId, r)
        .compose(v -> runRow(conn, r))
        .compose(
            row -> {
              if (row != null) {
                return add(conn, row, machineId, r);
              }
              // Two machines' first reports of one run at once: both find no row, one insert wins
              // and the other waits for it and makes nothing — that report then merges into the
              // winner's row (read again: committed rows are visible to the next statement).
              return runs.insert(conn, wid, machineId, first(machineId, r))
                  .compose(
                      made ->
                          made
                              ? Future.succeededFuture(true)
                              : runRow(conn, r)
                                  .compose(
                                      again ->
                                          again == null
                                              ? Future.succeededFuture(false)
                                              : add(conn, again, machineId, r)));
            });
  }

  /** The run's row, locked for this transaction; null when there is none yet. */
  private static Future<io.vertx.sqlclient.Row> runRow(SqlConnection conn, WorkflowRunReport r) {
    return conn.preparedQuery("SELECT * FROM run_records WHERE run_id = $1 FOR UPDATE")
        .execute(Tuple.of(r.runId()))
        .map(rows -> rows.iterator().hasNext() ? rows.iterator().next() : null);
  }

  /**
   * A machine reports only steps that name it (by name or id) in the stored definition of the
   * reported version, each once; a refusal reports no step.
   */
  private Future<Void> stepsNameThisMachine(
      SqlConnection conn, UUID machineId, WorkflowRunReport r) {
    if (r.steps().isEmpty()) {
      return Future.succeededFuture();
    }
    Set<String> seen = new HashSet<>();
    for (WorkflowRunReport.StepResult s : r.steps()) {
      if (!seen.add(s.id())) {
        return Future.failedFuture(
            Refusal.conflict(Reason.DUPLICATE_STEP, "step " + s.id() + " is reported twice"));
      }
    }
    return workflows
        .get(conn, r.name(), false)
        .compose(
            stored ->
                conn.preparedQuery("SELECT name FROM machines WHERE id = $1")
                    .execute(Tuple.of(machineId))
                    .map(rows -> Rows.first(rows, x -> x.getString("name")))
                    .compose(name -> check(stored, Set.of(machineId.toString(), name), r)));
  }

  private static Future<Void> check(Workflow stored, Set<String> me, WorkflowRunReport r) {
    if (stored == null || stored.yaml() == null) {
      return Future.failedFuture(
          Refusal.conflict(Reason.WRONG_MACHINE, "no stored workflow " + r.name()));
    }
    if (stored.version() != r.version()) {
      return Future.failedFuture(
          Refusal.conflict(
              Reason.VERSION_MISMATCH, "the stored definition is not the reported version"));
    }
    WorkflowDefinition d;
    try {
      d = WorkflowDefinition.parse(stored.yaml());
    } catch (CryptoException e) {
      return Future.failedFuture(
          Refusal.conflict(Reason.WRONG_MACHINE, "the stored definition does not parse"));
    }
    for (WorkflowRunReport.StepResult s : r.steps()) {
      boolean mine =
          d.steps().stream().anyMatch(x -> x.id().equals(s.id()) && me.contains(x.machine()));
      if (!mine) {
        return Future.failedFuture(
            Refusal.conflict(
                Reason.WRONG_MACHINE, "step " + s.id() + " does not name the reporting machine"));
      }
    }
    return Future.succeededFuture();
  }

  private Future<Boolean> add(
      SqlConnection conn, io.vertx.sqlclient.Row row, UUID machineId, WorkflowRunReport r) {
    JsonArray reports = (JsonArray) row.getJson("reports");
    for (Object o : reports) {
      if (r.eventId().equals(((JsonObject) o).getString("event_id"))) {
        return Future.succeededFuture(false); // replayed: merged already
      }
    }
    if (!r.name().equals(row.getString("workflow_name"))
        || r.version() != row.getLong("workflow_version")) {
      return Future.failedFuture(
          Refusal.conflict(
              Reason.VERSION_MISMATCH,
              "the run is of "
                  + row.getString("workflow_name")
                  + " v"
                  + row.getLong("workflow_version")));
    }
    JsonArray steps = ((JsonArray) row.getJson("steps")).copy();
    for (Object o : steps) {
      String id = ((JsonObject) o).getString("id");
      if (r.steps().stream().anyMatch(s -> s.id().equals(id))) {
        return Future.failedFuture(
            Refusal.conflict(Reason.DUPLICATE_STEP, "step " + id + " was reported already"));
      }
    }
    if (reports.size() >= MAX_REPORTS) {
      return Future.failedFuture(
          Refusal.conflict(Reason.TOO_MANY_REPORTS, "a run takes at most 50 reports"));
    }
    RunRecord now = first(machineId, r);
    steps.addAll(now.workflow().steps());
    OffsetDateTime started = min(row.getOffsetDateTime("started_at"), now.startedAt());
    OffsetDateTime ended = max(row.getOffsetDateTime("ended_at"), now.endedAt());
    boolean failed = "failure".equals(row.getString("outcome")) || "failure".equals(now.outcome());
    String reason = row.getString("reason").isEmpty() ? now.reason() : row.getString("reason");
    int exit = row.getInteger("exit_status");
    if (exit == 0 || exit == -1 && now.exitStatus() != 0) {
      exit = now.exitStatus();
    }
    return conn.preparedQuery(
            "UPDATE run_records SET steps = $2, reports = $3, outcome = $4, reason = $5,"
                + " exit_status = $6, started_at = $7, ended_at = $8, duration_ms = $9,"
                + " bytes_in = bytes_in + $10, bytes_out = bytes_out + $11 WHERE id = $1")
        .execute(
            Tuple.from(
                new Object[] {
                  row.getUUID("id"),
                  steps,
                  reports.copy().addAll(now.workflow().reports()),
                  failed ? "failure" : "success",
                  reason,
                  exit,
                  started,
                  ended,
                  Duration.between(started, ended).toMillis(),
                  now.bytesIn(),
                  now.bytesOut()
                }))
        .map(true);
  }

  /** The record of {@code r} alone: the first report of its run. */
  private RunRecord first(UUID machineId, WorkflowRunReport r) {
    OffsetDateTime end = OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC);
    JsonArray steps = new JsonArray();
    for (WorkflowRunReport.StepResult s : r.steps()) {
      steps.add(
          new JsonObject()
              .put("id", s.id())
              .put("machine_id", machineId.toString())
              .put("status", s.status())
              .put("exit_status", s.exitStatus())
              .put("duration_ms", s.durationMs())
              .put("bytes_in", s.bytesIn())
              .put("bytes_out", s.bytesOut()));
    }
    int exit =
        r.steps().stream()
            .filter(s -> s.exitStatus() != 0 && s.exitStatus() != -1)
            .mapToInt(WorkflowRunReport.StepResult::exitStatus)
            .findFirst()
            .orElse("success".equals(r.outcome()) ? 0 : -1);
    JsonArray reports =
        new JsonArray()
            .add(
                new JsonObject()
                    .put("machine_id", machineId.toString())
                    .put("event_id", r.eventId())
                    .put("outcome", r.outcome())
                    .put("reason", r.reason()));
    return new RunRecord(
        ids.next(),
        r.eventId(),
        null,
        "workflow",
        null,
        r.channel(),
        "success".equals(r.outcome()) ? "success" : "failure",
        r.reason(),
        exit,
        end.minus(Duration.ofMillis(r.durationMs())),
        end,
        r.durationMs(),
        r.bytesIn(),
        r.bytesOut(),
        new RunRecord.Workflow(r.name(), r.version(), steps, r.runId(), reports));
  }

  private static OffsetDateTime min(OffsetDateTime a, OffsetDateTime b) {
    return a.isBefore(b) ? a : b;
  }

  private static OffsetDateTime max(OffsetDateTime a, OffsetDateTime b) {
    return a.isAfter(b) ? a : b;
  }
}
