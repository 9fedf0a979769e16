package dev.umbra.cli.agent;

import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.Output;
import dev.umbra.cli.WorkspaceOption;
import dev.umbra.cli.relay.RelayAccess;
import dev.umbra.client.agent.AgentFrame;
import dev.umbra.client.agent.AgentFrames;
import dev.umbra.client.channel.PlainRelayClient;
import dev.umbra.proto.channel.AgentAttach;
import dev.umbra.proto.channel.AgentList;
import dev.umbra.proto.channel.AgentSessionOpen;
import dev.umbra.proto.channel.AgentStart;
import dev.umbra.proto.channel.AgentTranscript;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code umbra agent-session start|list|attach|transcript}: agent sessions on a machine, end to end
 * through the relay (docs/agents.md, "Agent sessions"). The platform sees ciphertext only; the
 * transcript is fetched from the daemon over the same channel kind.
 */
@Command(
    name = "agent-session",
    description = "Agent sessions on a machine: start a runtime, watch, prompt, page transcripts.",
    subcommands = {
      AgentSessionCommand.Start.class,
      AgentSessionCommand.ListCmd.class,
      AgentSessionCommand.Attach.class,
      AgentSessionCommand.Transcript.class
    })
public final class AgentSessionCommand {
  private static final long OPEN_SECONDS = 60;

  /** What every subcommand shares: the machine, the PSK, the workspace and --json. */
  abstract static class OnMachine implements Callable<Integer> {
    final CliContext ctx;

    @Parameters(index = "0", paramLabel = "<machine>", description = "Machine id or name.")
    String machine;

    @Option(
        names = "--psk",
        description = "The workspace PSK when the workspace requires one; else UMBRA_PSK.")
    String psk;

    @Mixin WorkspaceOption ws;
    @Mixin Output output;

    OnMachine(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() throws Exception {
      try (RelayAccess<PlainRelayClient> relay =
          RelayAccess.connectOneShot(ctx, ws.value(), machine, psk)) {
        return run(relay);
      } catch (ExecutionException e) {
        throw new CliException(e.getCause().getMessage());
      }
    }

    abstract int run(RelayAccess<PlainRelayClient> relay) throws Exception;

    /** An answer's frames (list, transcript): all of them, once the channel closed. */
    List<AgentFrame> answer(RelayAccess<PlainRelayClient> relay, AgentSessionOpen op, long seen)
        throws Exception {
      List<AgentFrame> got = new ArrayList<>();
      AgentChannel c =
          AgentChannel.open(
                  relay.client(),
                  relay.machineId(),
                  relay.daemonKey(),
                  op,
                  seen,
                  id -> {},
                  got::add)
              .get(OPEN_SECONDS, TimeUnit.SECONDS);
      c.done().get(OPEN_SECONDS, TimeUnit.SECONDS);
      return got;
    }

    void print(AgentFrame f) {
      ctx.out().println(output.json() ? f.json().encode() : human(f));
      ctx.out().flush();
    }
  }

  /** Watching options of start and attach. */
  abstract static class Watching extends OnMachine {
    @Option(names = "--prompt", paramLabel = "<text>", description = "Send a prompt (repeatable).")
    List<String> prompts = new ArrayList<>();

    @Option(names = "--approve", paramLabel = "<id>", description = "Approve a request.")
    List<String> approve = new ArrayList<>();

    @Option(names = "--deny", paramLabel = "<id>", description = "Deny a request.")
    List<String> deny = new ArrayList<>();

    @Option(
        names = "--until",
        paramLabel = "<text>",
        description = "Detach once a frame with this text arrives.")
    String until;

    @Option(
        names = "--for",
        paramLabel = "<seconds>",
        description = "Detach after this long (default: watch until the session ends).")
    Long seconds;

    @Option(names = "--detach", description = "Send the prompts and detach at once.")
    boolean detach;

    Watching(CliContext ctx) {
      super(ctx);
    }

    /**
     * Opens {@code op} and watches as the options say; the session's exit status, or 0 on
     * detaching. {@code announce}: print the session id first.
     */
    int watch(RelayAccess<PlainRelayClient> relay, AgentSessionOpen op, long seen, boolean announce)
        throws Exception {
      Watch w = new Watch(this, until);
      AgentChannel c =
          AgentChannel.open(
                  relay.client(),
                  relay.machineId(),
                  relay.daemonKey(),
                  op,
                  seen,
                  id -> {
                    if (announce) {
                      ctx.out()
                          .println(
                              output.json()
                                  ? new JsonObject().put("session_id", id).encode()
                                  : "agent session " + id);
                    }
                  },
                  w::frame)
              .get(OPEN_SECONDS, TimeUnit.SECONDS);
      for (String p : prompts) {
        c.send(AgentFrames.of(AgentFrames.Type.PROMPT, new JsonObject().put("text", p)));
      }
      for (String id : approve) {
        c.send(approval(id, "approve"));
      }
      for (String id : deny) {
        c.send(approval(id, "deny"));
      }
      CompletableFuture<Object> first =
          detach
              ? CompletableFuture.completedFuture(null)
              : CompletableFuture.anyOf(c.done(), w.seen);
      try {
        if (seconds != null) {
          first.get(seconds, TimeUnit.SECONDS);
        } else {
          first.get();
        }
      } catch (TimeoutException e) {
        // detach below
      }
      if (!c.done().isDone()) {
        c.detach();
      }
      OptionalInt exit = c.done().get(30, TimeUnit.SECONDS);
      return exit.orElse(0);
    }

    private static AgentFrame approval(String id, String answer) {
      return AgentFrames.of(
          AgentFrames.Type.APPROVAL, new JsonObject().put("id", id).put("answer", answer));
    }
  }

  /** Prints frames and notices when the {@code --until} text came. */
  static final class Watch {
    final CompletableFuture<Void> seen = new CompletableFuture<>();
    private final OnMachine on;
    private final String until;

    Watch(OnMachine on, String until) {
      this.on = on;
      this.until = until;
    }

    void frame(AgentFrame f) {
      on.print(f);
      if (until != null
          && f.json().stream().anyMatch(e -> String.valueOf(e.getValue()).contains(until))) {
        seen.complete(null);
      }
    }
  }

  @Command(name = "start", description = "Start a runtime the machine configures, and watch it.")
  public static final class Start extends Watching {
    @Parameters(index = "1", paramLabel = "<runtime>", description = "A configured runtime id.")
    String runtime;

    public Start(CliContext ctx) {
      super(ctx);
    }

    @Override
    int run(RelayAccess<PlainRelayClient> relay) throws Exception {
      return watch(
          relay,
          AgentSessionOpen.newBuilder()
              .setStart(AgentStart.newBuilder().setRuntime(runtime))
              .build(),
          0,
          true);
    }
  }

  @Command(name = "attach", description = "Watch a session again (several clients may).")
  public static final class Attach extends Watching {
    @Parameters(index = "1", paramLabel = "<session>")
    String session;

    @Option(
        names = "--from",
        paramLabel = "<seq>",
        description = "Show kept frames from this number on (default: new frames only).")
    long from;

    public Attach(CliContext ctx) {
      super(ctx);
    }

    @Override
    int run(RelayAccess<PlainRelayClient> relay) throws Exception {
      return watch(
          relay,
          AgentSessionOpen.newBuilder()
              .setAttach(AgentAttach.newBuilder().setSessionId(session).setFromSeq(from))
              .build(),
          from > 0 ? from - 1 : 0,
          false);
    }
  }

  @Command(name = "list", description = "List the machine's agent sessions.")
  public static final class ListCmd extends OnMachine {
    public ListCmd(CliContext ctx) {
      super(ctx);
    }

    @Override
    int run(RelayAccess<PlainRelayClient> relay) throws Exception {
      List<AgentFrame> got =
          answer(
              relay,
              AgentSessionOpen.newBuilder().setList(AgentList.getDefaultInstance()).build(),
              0);
      JsonArray sessions =
          got.stream()
              .filter(f -> f.type() == AgentFrames.Type.SESSIONS)
              .findFirst()
              .orElseThrow(() -> new CliException("the machine sent no session list"))
              .json()
              .getJsonArray("sessions");
      output.table(
          ctx.out(),
          sessions,
          List.of(
              "session_id", "runtime", "state", "started_at", "exit_status", "watchers", "frames"));
      return 0;
    }
  }

  @Command(
      name = "transcript",
      description = "Page through a session's transcript (from the machine).")
  public static final class Transcript extends OnMachine {
    @Parameters(index = "1", paramLabel = "<session>")
    String session;

    @Option(names = "--from", paramLabel = "<seq>", description = "First frame (default 1).")
    long from = 1;

    @Option(names = "--limit", paramLabel = "<n>", description = "Frames per page (max 500).")
    int limit = 100;

    @Option(names = "--all", description = "Every page from --from to the end.")
    boolean all;

    public Transcript(CliContext ctx) {
      super(ctx);
    }

    @Override
    int run(RelayAccess<PlainRelayClient> relay) throws Exception {
      long next = from;
      while (true) {
        List<AgentFrame> got =
            answer(
                relay,
                AgentSessionOpen.newBuilder()
                    .setTranscript(
                        AgentTranscript.newBuilder()
                            .setSessionId(session)
                            .setFromSeq(next)
                            .setLimit(limit))
                    .build(),
                next - 1);
        AgentFrame page = null;
        for (AgentFrame f : got) {
          if (f.type() == AgentFrames.Type.PAGE) {
            page = f;
          } else {
            print(f);
          }
        }
        if (page == null) {
          throw new CliException("the machine's answer ended before its page mark");
        }
        next = page.json().getLong("next_seq");
        boolean more = page.json().getBoolean("more");
        if (!all || !more) {
          if (output.json()) {
            print(page);
          } else if (more) {
            ctx.err().println("more from " + next + ": --from " + next);
          }
          return 0;
        }
      }
    }
  }

  /** A frame for people: one line. */
  static String human(AgentFrame f) {
    String n = f.seq() > 0 ? "#" + f.seq() + " " : "";
    return n
        + switch (f.type()) {
          case STATUS ->
              "status "
                  + f.text("state")
                  + (f.text("message").isEmpty() ? "" : ": " + f.text("message"));
          case OUTPUT -> f.text("text");
          case TOOL_CALL ->
              "tool call " + f.text("id") + " " + f.text("name") + ": " + f.text("input");
          case TOOL_RESULT ->
              "tool result "
                  + f.text("id")
                  + (Boolean.TRUE.equals(f.json().getBoolean("error")) ? " (error)" : "")
                  + ": "
                  + f.text("output");
          case APPROVAL_REQUEST ->
              "approval requested "
                  + f.text("id")
                  + ": "
                  + f.text("question")
                  + " (--approve|--deny "
                  + f.text("id")
                  + ")";
          case INBOX_REQUEST ->
              "inbox request "
                  + f.text("id")
                  + " ("
                  + f.text("kind")
                  + ", default "
                  + f.text("default")
                  + "): "
                  + f.text("question");
          case INBOX_RAISED ->
              "inbox item raised for "
                  + f.text("id")
                  + ": umbra inbox decide "
                  + f.text("item_id")
                  + " <answer>";
          case INBOX_DECISION ->
              "inbox "
                  + f.text("id")
                  + " "
                  + f.text("status")
                  + ": "
                  + (f.text("answer").isEmpty() ? f.text("reason") : f.text("answer"));
          case PROMPT -> "> " + f.text("text");
          case APPROVAL -> "approval " + f.text("id") + ": " + f.text("answer");
          case EXIT -> "session ended, exit status " + f.json().getInteger("code");
          case NOTICE -> "notice: " + f.text("code");
          case SESSIONS, PAGE -> f.json().encode();
        };
  }
}
