package dev.umbra.daemon.workflow;

import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.PrivateFiles;
import dev.umbra.crypto.workflow.WorkflowDefinition;
import dev.umbra.crypto.workflow.WorkflowRunReport.StepResult;
import dev.umbra.daemon.agent.StepSession;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs a verified workflow's steps asked of this machine, in order (docs/agents.md, "Workflow
 * runs"): a step whose condition does not hold is {@code skipped}; each command runs without a
 * shell and without stdin, until it exits or its {@code timeout_seconds} (default {@link
 * #DEFAULT_TIMEOUT_SECONDS}) pass; an agent step starts a session of its runtime ({@link
 * WorkflowRuns.AgentSteps}) and waits for its end the same way. Its transcript is written only
 * here, under {@code UMBRA_HOME/sessions/<session-id>/} ({@code meta.json}, {@code <step>.stdout},
 * {@code <step>.stderr}, {@code <step>.exit}; 0700/0600); the client that asked gets at most {@link
 * #MAX_FORWARD} bytes of each step's output over the channel. Blocking.
 */
final class WorkflowExecutor {
  static final long DEFAULT_TIMEOUT_SECONDS = 3600;
  static final int MAX_FORWARD = 64 * 1024;

  /** Where the run's progress goes (the channel to the client). */
  interface Progress {
    void step(StepResult result);

    void output(String step, String stream, byte[] chunk);
  }

  private final Path sessions;
  private final String sessionId;
  private final Clock clock;
  private final WorkflowRuns.AgentSteps agents;
  private final long channelId;
  private Path dir;

  /**
   * @param agents where an agent step starts its session
   * @param channelId the channel that asked for the run (an agent step's session names it)
   */
  WorkflowExecutor(
      Path sessions,
      String sessionId,
      Clock clock,
      WorkflowRuns.AgentSteps agents,
      long channelId) {
    this.sessions = sessions;
    this.sessionId = sessionId;
    this.clock = clock;
    this.agents = agents;
    this.channelId = channelId;
  }

  /** Whether the run failed: a step failed that does not continue on failure. */
  record Outcome(boolean failed, List<StepResult> steps) {}

  /**
   * Runs the steps {@code only} (checked by {@code WorkflowRunPlan.check}: consecutive, naming this
   * machine), in order; {@code failedBefore} is whether a step before them failed, on any machine
   * of the run.
   */
  Outcome run(
      WorkflowDefinition d,
      long version,
      Map<String, String> inputs,
      List<String> only,
      boolean failedBefore,
      Progress progress)
      throws IOException {
    dir =
        KeyFiles.ensurePrivateDirectory(
            KeyFiles.ensurePrivateDirectory(sessions).resolve(sessionId));
    JsonObject meta =
        new JsonObject()
            .put("session_id", sessionId)
            .put("workflow", d.name())
            .put("version", version)
            .put("inputs", new JsonObject(new java.util.HashMap<String, Object>(inputs)))
            .put("started_at", clock.instant().toString());
    write("meta.json", meta.encodePrettily().getBytes(StandardCharsets.UTF_8));
    boolean failed = failedBefore;
    boolean failedHere = false;
    List<StepResult> results = new ArrayList<>();
    for (WorkflowDefinition.Step s : d.steps()) {
      StepResult r;
      if (!only.contains(s.id())) {
        continue;
      } else if (!s.when().holds(inputs, failed)) {
        r = new StepResult(s.id(), "skipped", -1, 0, 0, 0);
      } else {
        r = s.isAgent() ? runAgentStep(s, inputs, progress) : runStep(s, inputs, progress);
        if (!"succeeded".equals(r.status()) && !s.continueOnFailure()) {
          failed = true;
          failedHere = true;
        }
      }
      results.add(r);
      progress.step(r);
    }
    return new Outcome(failedHere, results);
  }

  private StepResult runStep(
      WorkflowDefinition.Step s, Map<String, String> inputs, Progress progress) {
    long started = System.nanoTime();
    ProcessBuilder pb = new ProcessBuilder(s.argv(inputs));
    String cwd = s.cwd(inputs);
    if (!cwd.isEmpty()) {
      pb.directory(Path.of(cwd).toFile());
    }
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process p;
    try {
      p = pb.start();
    } catch (IOException | RuntimeException e) {
      write(s.id() + ".exit", "not started\n".getBytes(StandardCharsets.UTF_8));
      return new StepResult(s.id(), "not_started", -1, millis(started), 0, 0);
    }
    AtomicLong bytes = new AtomicLong();
    AtomicLong forwarded = new AtomicLong();
    Thread out =
        Thread.ofVirtual()
            .start(() -> pump(p.getInputStream(), s.id(), "stdout", bytes, forwarded, progress));
    Thread err =
        Thread.ofVirtual()
            .start(() -> pump(p.getErrorStream(), s.id(), "stderr", bytes, forwarded, progress));
    long timeout = s.timeoutSeconds() > 0 ? s.timeoutSeconds() : DEFAULT_TIMEOUT_SECONDS;
    boolean exited;
    try {
      exited = p.waitFor(timeout, TimeUnit.SECONDS);
      if (!exited) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
      out.join();
      err.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      exited = false;
    }
    int exit = exited ? p.exitValue() : -1;
    write(
        s.id() + ".exit", ((exited ? exit : "timed out") + "\n").getBytes(StandardCharsets.UTF_8));
    String status = !exited ? "timed_out" : exit == 0 ? "succeeded" : "failed";
    return new StepResult(s.id(), status, Math.min(exit, 255), millis(started), 0, bytes.get());
  }

  /**
   * An agent step: a session of the step's runtime, given its prompt; the step ends with the
   * session — exit 0 {@code succeeded}, another {@code failed} — or {@code timed_out} (the runtime
   * is then ended). The session's frames and transcript stay in its own directory ({@code
   * agent-sessions/}); this run's transcript names the session ({@code <step>.agent-session}), and
   * the client is told its id so that it can attach.
   */
  private StepResult runAgentStep(
      WorkflowDefinition.Step s, Map<String, String> inputs, Progress progress) {
    long started = System.nanoTime();
    Optional<StepSession> session;
    try {
      session = agents.start(s.agent(), s.prompt(inputs), channelId);
    } catch (IOException | RuntimeException e) {
      session = Optional.empty();
    }
    if (session.isEmpty()) {
      write(s.id() + ".exit", "not started\n".getBytes(StandardCharsets.UTF_8));
      return new StepResult(s.id(), "not_started", -1, millis(started), 0, 0);
    }
    StepSession a = session.get();
    byte[] named = ("agent session " + a.id() + "\n").getBytes(StandardCharsets.UTF_8);
    write(s.id() + ".agent-session", named);
    progress.output(s.id(), "stderr", named);
    long timeout = s.timeoutSeconds() > 0 ? s.timeoutSeconds() : DEFAULT_TIMEOUT_SECONDS;
    OptionalInt exit;
    try {
      exit = a.await(Duration.ofSeconds(timeout));
      if (exit.isEmpty()) {
        a.stop();
        a.await(Duration.ofSeconds(10));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      a.stop();
      exit = OptionalInt.empty();
    }
    write(
        s.id() + ".exit",
        ((exit.isPresent() ? exit.getAsInt() : "timed out") + "\n")
            .getBytes(StandardCharsets.UTF_8));
    String status = exit.isEmpty() ? "timed_out" : exit.getAsInt() == 0 ? "succeeded" : "failed";
    return new StepResult(
        s.id(),
        status,
        exit.isPresent() ? Math.min(exit.getAsInt(), 255) : -1,
        millis(started),
        a.bytesIn(),
        a.bytesOut());
  }

  private static long millis(long startedNanos) {
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }

  private void pump(
      InputStream in,
      String step,
      String stream,
      AtomicLong bytes,
      AtomicLong forwarded,
      Progress progress) {
    byte[] buf = new byte[16 * 1024];
    try (in) {
      int n;
      while ((n = in.read(buf)) > 0) {
        byte[] chunk = Arrays.copyOf(buf, n);
        bytes.addAndGet(n);
        write(step + "." + stream, chunk);
        long before = forwarded.getAndAdd(n);
        if (before < MAX_FORWARD) {
          progress.output(
              step, stream, Arrays.copyOf(chunk, (int) Math.min(n, MAX_FORWARD - before)));
        }
      }
    } catch (IOException e) {
      // the process ended or was killed
    }
  }

  private void write(String file, byte[] bytes) {
    try {
      PrivateFiles.append(dir.resolve(file), bytes);
    } catch (IOException e) {
      // a transcript that cannot be written must not stop the run; the failure is visible on disk
    }
  }
}
