package dev.umbra.daemon.workflow;

import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.MachineClient;
import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.workflow.SignedWorkflow;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.crypto.workflow.WorkflowDefinition;
import dev.umbra.crypto.workflow.WorkflowRefusal;
import dev.umbra.crypto.workflow.WorkflowRunPlan;
import dev.umbra.crypto.workflow.WorkflowRunReport;
import dev.umbra.crypto.workflow.WorkflowRunReport.StepResult;
import dev.umbra.daemon.agent.StepSession;
import dev.umbra.daemon.channel.MessageService;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code workflow} message service of a binding (docs/agents.md, "Workflow runs"): a client
 * asks, over its end-to-end encrypted relay channel, {@code {"name","inputs"}}; the daemon fetches
 * the definition from the control plane (signed with the binding key), verifies it against its
 * pinned workspace trust ({@link WorkflowVerifier}), runs this machine's steps ({@link
 * WorkflowExecutor}) and answers with step results and a bounded part of their output, ending with
 * {@code {"event":"end","outcome","reason"}}. Every run and every refusal is reported to the
 * control plane ({@code POST /v1/machine-workflow-runs}): a run record and an audit event, with
 * numbers, ids and codes only.
 */
public final class WorkflowRuns implements MessageService {
  public static final String TOPIC = "workflow";
  static final int MAX_REQUEST = 64 * 1024;
  private static final Logger log = LoggerFactory.getLogger(WorkflowRuns.class);

  /** Starts an agent step's session: the binding's {@code AgentSessions#startForStep}. */
  @FunctionalInterface
  public interface AgentSteps {
    /** Blocking; empty when the runtime is not configured here or no session may start now. */
    Optional<StepSession> start(String runtime, String prompt, long channelId)
        throws java.io.IOException;
  }

  /** What a binding's workflow runs need: where to ask and report, and what to verify against. */
  public record Wiring(
      Vertx vertx,
      MachineClient client,
      AgentSteps agents,
      Supplier<Optional<DeviceTrust>> trust,
      Runnable refreshTrust,
      Path bindingDir,
      Path home,
      Supplier<String> eventIds,
      Supplier<String> sessionIds,
      Clock clock) {
    Binding binding() {
      return client.binding();
    }
  }

  private final Wiring w;
  private final WorkflowVerifier verifier;

  public WorkflowRuns(Wiring w) {
    this.w = w;
    this.verifier = new WorkflowVerifier(w.bindingDir(), w.binding().workspaceId());
  }

  @Override
  public void open(MessagePeer peer) {
    Context context = Vertx.currentContext();
    boolean[] asked = {false};
    peer.onMessage(
        bytes -> {
          if (asked[0]) {
            return; // one run per channel
          }
          asked[0] = true;
          w.vertx()
              .executeBlocking(() -> handle(peer, context, bytes), false)
              .onComplete(ar -> context.runOnContext(v -> peer.close()));
        });
  }

  /**
   * A part of a run (docs/agents.md, "Workflow runs"): the workflow's name, the version the run
   * started with, the run's id (chosen by the client), the inputs given, the consecutive steps
   * naming this machine to run now, and the status of every step before them.
   */
  record Request(
      String name,
      long version,
      String runId,
      Map<String, String> inputs,
      List<String> steps,
      Map<String, String> prior) {
    static Request parse(byte[] bytes) {
      if (bytes.length > MAX_REQUEST) {
        throw new IllegalArgumentException("the request is too large");
      }
      JsonObject j = new JsonObject(new String(bytes, StandardCharsets.UTF_8));
      if (!(j.getValue("name") instanceof String name)
          || !WorkflowDefinition.NAME.matcher(name).matches()) {
        throw new IllegalArgumentException("name must be a workflow name");
      }
      if (!(j.getValue("run_id") instanceof String runId)
          || !WorkflowRunReport.EVENT.matcher(runId).matches()) {
        throw new IllegalArgumentException("run_id must be a ULID");
      }
      if (!(j.getValue("version") instanceof Number n)
          || n.doubleValue() != n.longValue()
          || n.longValue() < 1) {
        throw new IllegalArgumentException("version must be a stored version");
      }
      if (j.size() > 6 || !(j.getValue("steps") instanceof io.vertx.core.json.JsonArray a)) {
        throw new IllegalArgumentException("steps must be a list, and nothing else is asked");
      }
      List<String> steps = new java.util.ArrayList<>();
      for (Object o : a) {
        if (!(o instanceof String id) || steps.size() >= WorkflowDefinition.MAX_STEPS) {
          throw new IllegalArgumentException("steps are at most 50 step ids");
        }
        steps.add(id);
      }
      return new Request(
          name,
          n.longValue(),
          runId,
          strings(j.getJsonObject("inputs", new JsonObject()), WorkflowDefinition.MAX_INPUTS),
          steps,
          strings(j.getJsonObject("prior", new JsonObject()), WorkflowDefinition.MAX_STEPS));
    }

    private static Map<String, String> strings(JsonObject in, int max) {
      if (in.size() > max) {
        throw new IllegalArgumentException("too many members");
      }
      Map<String, String> out = new TreeMap<>();
      for (String k : in.fieldNames()) {
        if (!(in.getValue(k) instanceof String v)) {
          throw new IllegalArgumentException("values are strings");
        }
        out.put(k, v);
      }
      return out;
    }
  }

  /** Blocking: fetch, verify, run, report; the client hears each step and the end. */
  private Void handle(MessagePeer peer, Context context, byte[] bytes) {
    long started = System.nanoTime();
    String channel = Long.toHexString(peer.channelId());
    Request req;
    try {
      req = Request.parse(bytes);
    } catch (RuntimeException e) {
      end(
          peer,
          context,
          "refused",
          "bad_request",
          "a workflow run request is {name, version, run_id, inputs, steps, prior}");
      return null;
    }
    Run run = new Run(peer, context, req.name(), req.version(), req.runId(), channel, started);
    Admitted ok = admit(req, run);
    if (ok == null) {
      return null;
    }
    WorkflowDefinition d = ok.definition();
    WorkflowExecutor.Outcome o;
    try {
      o =
          new WorkflowExecutor(
                  w.home().resolve("sessions"),
                  w.sessionIds().get(),
                  w.clock(),
                  w.agents(),
                  peer.channelId())
              .run(
                  d,
                  req.version(),
                  ok.inputs(),
                  req.steps(),
                  WorkflowRunPlan.failedBefore(d, req.prior()),
                  progress(peer, context));
    } catch (java.io.IOException e) {
      end(
          peer,
          context,
          "failure",
          "start_failed",
          "cannot write the run's transcript: " + e.getMessage());
      return null;
    }
    String outcome = o.failed() ? "failure" : "success";
    String reason = o.failed() ? "step_failed" : "";
    report(
        new WorkflowRunReport(
            w.eventIds().get(),
            req.runId(),
            req.name(),
            req.version(),
            channel,
            outcome,
            reason,
            millis(started),
            o.steps()));
    end(
        peer,
        context,
        outcome,
        reason,
        "workflow " + req.name() + " v" + req.version() + ": " + outcome);
    return null;
  }

  /** A verified definition of the run's version and the resolved inputs. */
  private record Admitted(WorkflowDefinition definition, Map<String, String> inputs) {}

  /**
   * Fetches and verifies the definition and checks the part asked of this machine; null when
   * refused (the refusal reported and told).
   */
  private Admitted admit(Request req, Run run) {
    Fetched f = fetch(req.name());
    if (f.refusal() == null && f.version() != req.version()) {
      // every machine of one run runs the version it started with
      String now = "workflow " + req.name() + " is at v" + f.version();
      refuse(
          run,
          WorkflowRefusal.VERSION_CHANGED.code(),
          now + ", the run started with v" + req.version());
      return null;
    }
    SignedWorkflow.Verdict v = f.refusal() != null ? refused(f.refusal()) : verify(req.name(), f);
    if (v.refusal().isPresent()) {
      refuse(run, v.refusal().get().code(), null);
      return null;
    }
    WorkflowDefinition d = v.definition().orElseThrow();
    Map<String, String> inputs;
    try {
      inputs = d.resolve(req.inputs());
    } catch (IllegalArgumentException e) {
      refuse(run, WorkflowRefusal.BAD_INPUTS.code(), e.getMessage());
      return null;
    }
    Set<String> me = Set.of(w.binding().name(), w.binding().machineId().toString());
    try {
      WorkflowRunPlan.check(d, req.steps(), req.prior(), me);
    } catch (IllegalArgumentException e) {
      refuse(run, WorkflowRefusal.BAD_STEPS.code(), e.getMessage());
      return null;
    }
    return new Admitted(d, inputs);
  }

  /** The part of a run being handled: what a refusal reports and tells the client. */
  private record Run(
      MessagePeer peer,
      Context context,
      String name,
      long version,
      String runId,
      String channel,
      long started) {}

  /** Reports a refusal (a run record and {@code workflow.refused}) and tells the client. */
  private void refuse(Run r, String code, String message) {
    report(
        new WorkflowRunReport(
            w.eventIds().get(),
            r.runId(),
            r.name(),
            r.version(),
            r.channel(),
            "refused",
            code,
            millis(r.started()),
            List.of()));
    log.atWarn().addKeyValue("workflow", r.name()).log("workflow refused: {}", code);
    end(
        r.peer(),
        r.context(),
        "refused",
        code,
        message != null
            ? message
            : "the machine refused to run workflow " + r.name() + ": " + code);
  }

  private static SignedWorkflow.Verdict refused(WorkflowRefusal r) {
    return SignedWorkflow.Verdict.refused(r);
  }

  /**
   * Verifies against the pin; a signer the pin does not know yet (a device approved since the last
   * heartbeat) makes the daemon refresh its pin from the signed trust material once and look again.
   */
  private SignedWorkflow.Verdict verify(String name, Fetched f) {
    SignedWorkflow.Verdict v = verifyOnce(name, f);
    if (v.refusal().equals(Optional.of(WorkflowRefusal.UNKNOWN_SIGNER))) {
      try {
        w.refreshTrust().run();
      } catch (RuntimeException e) {
        return v;
      }
      return verifyOnce(name, f);
    }
    return v;
  }

  private SignedWorkflow.Verdict verifyOnce(String name, Fetched f) {
    Optional<DeviceTrust> trust;
    try {
      trust = w.trust().get();
    } catch (RuntimeException e) {
      return refused(WorkflowRefusal.TRUST_UNREADABLE);
    }
    try {
      return verifier.verify(name, f.served(), trust);
    } catch (RuntimeException e) {
      // the held versions cannot be read or written: fail closed
      return refused(WorkflowRefusal.TRUST_UNREADABLE);
    }
  }

  /** The served definition, or why there is none; {@code version} 0 when unknown. */
  private record Fetched(SignedWorkflow.Served served, long version, WorkflowRefusal refusal) {}

  private Fetched fetch(String name) {
    try {
      JsonObject r =
          w.client()
              .post(
                  ControlPlanePaths.MACHINE_WORKFLOW,
                  (ws, m, ts) -> MachineRequests.workflow(ws, m, ts, name),
                  new JsonObject().put("name", name));
      SignedWorkflow.Served s = SignedWorkflow.Served.fromJson(r);
      return new Fetched(s, s.version(), null);
    } catch (MachineClient.Failed e) {
      return new Fetched(
          null,
          0,
          e.failure() == MachineClient.Failure.NOT_FOUND
              ? WorkflowRefusal.NOT_FOUND
              : WorkflowRefusal.UNREACHABLE);
    } catch (IllegalArgumentException e) {
      return new Fetched(null, 0, WorkflowRefusal.MALFORMED);
    } catch (RuntimeException e) {
      return new Fetched(null, 0, WorkflowRefusal.UNREACHABLE);
    }
  }

  /** Sends {@code r} to the control plane, signed; a report it does not take is logged, dropped. */
  private void report(WorkflowRunReport r) {
    String text = r.canonical();
    try {
      w.client()
          .post(
              ControlPlanePaths.MACHINE_WORKFLOW_RUNS,
              (ws, m, ts) -> MachineRequests.workflowRun(ws, m, ts, text),
              new JsonObject().put("report", text));
    } catch (MachineClient.Failed e) {
      log.atWarn()
          .addKeyValue("workflow", r.name())
          .log("workflow run report not taken by the control plane: {}", e.getMessage());
    }
  }

  private static WorkflowExecutor.Progress progress(MessagePeer peer, Context context) {
    return new WorkflowExecutor.Progress() {
      @Override
      public void step(StepResult s) {
        send(
            peer,
            context,
            new JsonObject()
                .put("event", "step")
                .put("id", s.id())
                .put("status", s.status())
                .put("exit_status", s.exitStatus())
                .put("duration_ms", s.durationMs())
                .put("bytes_out", s.bytesOut()));
      }

      @Override
      public void output(String step, String stream, byte[] chunk) {
        send(
            peer,
            context,
            new JsonObject()
                .put("event", "output")
                .put("step", step)
                .put("stream", stream)
                .put("data", Base64.getEncoder().encodeToString(chunk)));
      }
    };
  }

  private static void end(
      MessagePeer peer, Context context, String outcome, String reason, String message) {
    send(
        peer,
        context,
        new JsonObject()
            .put("event", "end")
            .put("outcome", outcome)
            .put("reason", reason)
            .put("message", message));
  }

  private static void send(MessagePeer peer, Context context, JsonObject m) {
    byte[] bytes = m.encode().getBytes(StandardCharsets.UTF_8);
    context.runOnContext(v -> peer.send(bytes));
  }

  private static long millis(long startedNanos) {
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }
}
