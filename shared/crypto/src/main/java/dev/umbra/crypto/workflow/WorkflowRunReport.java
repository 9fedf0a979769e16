package dev.umbra.crypto.workflow;

import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.json.CanonicalJson;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What a daemon reports of a workflow run (docs/agents.md, "Workflow runs"), signed with its
 * binding key as the canonical JSON of {@link #fields()}: the event id, the run id (one run of a
 * workflow whose steps name several machines: every machine's report carries it, the control plane
 * merges them into one run record), the workflow's name and version, the relay channel it was asked
 * on, the outcome ({@code success}, {@code failure} or {@code refused} with a reason code), its
 * duration, and per step its status, exit status, duration and byte counts. Numbers, ids and codes
 * only: never an argument, an input or output.
 */
public record WorkflowRunReport(
    String eventId,
    String runId,
    String name,
    long version,
    String channel,
    String outcome,
    String reason,
    long durationMs,
    List<StepResult> steps) {
  public static final int MAX_TEXT = 16 * 1024;
  public static final Set<String> OUTCOMES = Set.of("success", "failure", "refused");
  public static final Set<String> STATUSES =
      Set.of("succeeded", "failed", "timed_out", "not_started", "skipped", "other_machine");

  /** An event or run id: a ULID. */
  public static final Pattern EVENT = Pattern.compile("[0-9A-HJKMNP-TV-Z]{26}");

  private static final Pattern CODE = Pattern.compile("[a-z][a-z0-9_]{0,31}");
  private static final Pattern HEX = Pattern.compile("[0-9a-f]{1,16}");
  private static final Pattern STEP = Pattern.compile("[a-z][a-z0-9_-]{0,31}");

  /** One step's result; {@code exitStatus} -1 when it did not run or was killed. */
  public record StepResult(
      String id, String status, int exitStatus, long durationMs, long bytesIn, long bytesOut) {}

  public WorkflowRunReport {
    steps = List.copyOf(steps);
  }

  public Map<String, Object> fields() {
    Map<String, Object> m = new TreeMap<>();
    m.put("event_id", eventId);
    m.put("run_id", runId);
    m.put("name", name);
    m.put("version", version);
    m.put("channel", channel);
    m.put("outcome", outcome);
    m.put("reason", reason);
    m.put("duration_ms", durationMs);
    List<Object> list = new ArrayList<>();
    for (StepResult s : steps) {
      Map<String, Object> f = new TreeMap<>();
      f.put("id", s.id());
      f.put("status", s.status());
      f.put("exit_status", (long) s.exitStatus());
      f.put("duration_ms", s.durationMs());
      f.put("bytes_in", s.bytesIn());
      f.put("bytes_out", s.bytesOut());
      list.add(f);
    }
    m.put("steps", list);
    return m;
  }

  /** The canonical text (what the machine signs). */
  public String canonical() {
    return CanonicalJson.encodeToString(fields());
  }

  /** Total bytes of every step, from the client (stdin: none for workflows) and to it. */
  public long bytesOut() {
    return steps.stream().mapToLong(StepResult::bytesOut).sum();
  }

  public long bytesIn() {
    return steps.stream().mapToLong(StepResult::bytesIn).sum();
  }

  /**
   * Parses a report's canonical text; refuses anything not canonical, with unknown members, or out
   * of bounds.
   */
  public static WorkflowRunReport parse(String text) {
    if (text == null || text.isEmpty() || text.length() > MAX_TEXT) {
      throw new MalformedInputException(
          "a workflow run report is 1 to " + MAX_TEXT + " characters");
    }
    Object parsed;
    try {
      if (!CanonicalJson.canonicalize(text).equals(text)) {
        throw new MalformedInputException("a workflow run report must be canonical JSON");
      }
      parsed = CanonicalJson.parse(text);
    } catch (MalformedInputException e) {
      throw e;
    } catch (CryptoException e) {
      throw new MalformedInputException("a workflow run report must be canonical JSON");
    }
    if (!(parsed instanceof Map<?, ?> m)
        || !m.keySet()
            .equals(
                Set.of(
                    "event_id",
                    "run_id",
                    "name",
                    "version",
                    "channel",
                    "outcome",
                    "reason",
                    "duration_ms",
                    "steps"))) {
      throw new MalformedInputException("a workflow run report has exactly its members");
    }
    String reason = text(m.get("reason"), Pattern.compile("|" + CODE.pattern()), "reason");
    String outcome = text(m.get("outcome"), Pattern.compile("success|failure|refused"), "outcome");
    if (!(m.get("steps") instanceof List<?> list) || list.size() > WorkflowDefinition.MAX_STEPS) {
      throw new MalformedInputException("steps must be a list of at most 50");
    }
    List<StepResult> steps = new ArrayList<>();
    for (Object o : list) {
      steps.add(step(o));
    }
    return new WorkflowRunReport(
        text(m.get("event_id"), EVENT, "event_id"),
        text(m.get("run_id"), EVENT, "run_id"),
        text(m.get("name"), WorkflowDefinition.NAME, "name"),
        number(m.get("version"), "version"),
        text(m.get("channel"), HEX, "channel"),
        outcome,
        reason,
        number(m.get("duration_ms"), "duration_ms"),
        steps);
  }

  private static StepResult step(Object o) {
    if (!(o instanceof Map<?, ?> s)
        || !s.keySet()
            .equals(
                Set.of("id", "status", "exit_status", "duration_ms", "bytes_in", "bytes_out"))) {
      throw new MalformedInputException("a step result has exactly its members");
    }
    String status = (String) (s.get("status") instanceof String st ? st : null);
    if (!STATUSES.contains(status)) {
      throw new MalformedInputException("an unknown step status");
    }
    if (!(s.get("exit_status") instanceof Long exit) || exit < -1 || exit > 255) {
      throw new MalformedInputException("exit_status must be -1 to 255");
    }
    return new StepResult(
        text(s.get("id"), STEP, "step id"),
        status,
        exit.intValue(),
        number(s.get("duration_ms"), "duration_ms"),
        number(s.get("bytes_in"), "bytes_in"),
        number(s.get("bytes_out"), "bytes_out"));
  }

  private static String text(Object o, Pattern p, String what) {
    if (!(o instanceof String s) || !p.matcher(s).matches()) {
      throw new MalformedInputException(what + " is malformed");
    }
    return s;
  }

  private static long number(Object o, String what) {
    if (!(o instanceof Long n) || n < 0) {
      throw new MalformedInputException(what + " must be a non-negative integer");
    }
    return n;
  }
}
