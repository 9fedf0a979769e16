package dev.umbra.cli.audit;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.Output;
import dev.umbra.cli.UsageException;
import dev.umbra.cli.WorkspaceOption;
import dev.umbra.client.http.ApiError;
import dev.umbra.client.http.ClientTls;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.proto.api.AuditPaths;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code umbra audit query|tail|verify|export}: the workspace's audit log (docs/audit.md). Each
 * call gets a session token for the audit service (audience {@code audit}) and finds the service
 * through the control plane's discovery; reading the audit log needs the admin or owner role.
 */
@Command(
    name = "audit",
    description = "The workspace's audit log: who did what, when, from where.",
    subcommands = {
      AuditCommand.Query.class,
      AuditCommand.Tail.class,
      AuditCommand.Verify.class,
      AuditCommand.Export.class,
    })
public final class AuditCommand {
  static final String AUDIENCE = "audit";

  private AuditCommand() {}

  /** The audit service of the logged-in CLI, for one workspace. */
  record Target(CliContext ctx, String baseUrl, UUID workspace, String token) {
    static Target of(CliContext ctx, WorkspaceOption ws) {
      Api api = new Api(ctx);
      UUID w = api.workspace(ws.value());
      return new Target(ctx, api.serviceUrl(AUDIENCE), w, api.session(w, AUDIENCE));
    }

    URI uri(String op, String query) {
      return JsonHttp.resolve(
          baseUrl, AuditPaths.audit(workspace, op) + (query.isEmpty() ? "" : "?" + query));
    }

    JsonObject get(String op, String query) {
      return ctx.http().get(uri(op, query), token);
    }

    /** A streaming GET (tail, export); a non-2xx answer becomes the service's error. */
    HttpResponse<InputStream> stream(String op, String query, String accept) {
      // the CLI's client: UMBRA_TLS_CA_FILE and UMBRA_TLS_PIN apply here as to every call
      HttpClient client = ctx.http().client();
      HttpRequest req =
          HttpRequest.newBuilder(uri(op, query))
              .header("authorization", "Bearer " + token)
              .header("accept", accept)
              .GET()
              .build();
      HttpResponse<InputStream> r;
      try {
        r = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
      } catch (IOException e) {
        throw new CliException(
            "cannot reach the audit service at "
                + baseUrl
                + ": "
                + (ClientTls.isTls(e) ? ClientTls.explain(e) : e.getMessage()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CliException("interrupted");
      }
      if (r.statusCode() / 100 != 2) {
        String body;
        try (InputStream in = r.body()) {
          body = new String(in.readNBytes(64 * 1024), StandardCharsets.UTF_8);
        } catch (IOException e) {
          body = "";
        }
        JsonObject err;
        try {
          err = new JsonObject(body).getJsonObject("error", new JsonObject());
        } catch (DecodeException | ClassCastException e) {
          err = new JsonObject();
        }
        throw new ApiError(
            r.statusCode(),
            err.getString("code", "http_" + r.statusCode()),
            err.getString("message", "request failed with HTTP " + r.statusCode()),
            err.getString("field"));
      }
      return r;
    }
  }

  /** Filters shared by query and export. */
  static final class Filters {
    @Option(
        names = "--from",
        paramLabel = "<time>",
        description = "From this time (RFC 3339 or Unix ms), inclusive.")
    String from;

    @Option(
        names = "--to",
        paramLabel = "<time>",
        description = "Up to this time (RFC 3339 or Unix ms), exclusive.")
    String to;

    @Option(
        names = "--actor",
        paramLabel = "<id|kind:id>",
        description = "Only this actor (e.g. member:<account id>).")
    String actor;

    @Option(
        names = "--action",
        paramLabel = "<action>",
        description = "Only these actions (repeatable, e.g. machine.paired).")
    List<String> actions = new ArrayList<>();

    @Option(
        names = "--target",
        paramLabel = "<kind:id>",
        description = "Only this target (e.g. machine:<id>).")
    String target;

    @Option(
        names = "--outcome",
        paramLabel = "<outcome>",
        description = "success, failure or denied.")
    String outcome;

    String query() {
      List<String> q = new ArrayList<>();
      add(q, "from", from);
      add(q, "to", to);
      add(q, "actor", actor);
      actions.forEach(a -> add(q, "action", a));
      add(q, "target", target);
      add(q, "outcome", outcome);
      return String.join("&", q);
    }
  }

  static void add(List<String> q, String name, String value) {
    if (value != null && !value.isEmpty()) {
      q.add(name + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8));
    }
  }

  /** One event as a line for people. */
  static String line(JsonObject e) {
    JsonObject actor = e.getJsonObject("actor", new JsonObject());
    StringBuilder s =
        new StringBuilder()
            .append(e.getString("time", "?"))
            .append("  ")
            .append(actor.getString("kind", "?"))
            .append(':')
            .append(actor.getString("id", ""))
            .append("  ")
            .append(e.getString("action", "?"))
            .append("  ")
            .append(e.getString("target", ""))
            .append("  ")
            .append(e.getString("outcome", "?"));
    JsonObject meta = e.getJsonObject("metadata", new JsonObject());
    if (!meta.isEmpty()) {
      s.append("  ").append(meta.encode());
    }
    if (!e.getString("source_ip", "").isEmpty()) {
      s.append("  from ").append(e.getString("source_ip"));
    }
    return s.append("  #").append(e.getLong("seq", 0L)).toString();
  }

  @Command(name = "query", description = "List audit events, newest first, with filters.")
  public static final class Query implements Callable<Integer> {
    private final CliContext ctx;
    @Mixin WorkspaceOption ws;
    @Mixin Output output;
    @Mixin Filters filters;

    @Option(
        names = "--limit",
        paramLabel = "<n>",
        defaultValue = "50",
        description = "At most this many events (default ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--all", description = "Every matching event (follows pages).")
    boolean all;

    @Option(names = "--asc", description = "Oldest first.")
    boolean ascending;

    public Query(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      if (limit < 1) {
        throw new UsageException("--limit must be at least 1");
      }
      Target t = Target.of(ctx, ws);
      JsonArray events = new JsonArray();
      String cursor = null;
      do {
        List<String> q = new ArrayList<>();
        String f = filters.query();
        if (!f.isEmpty()) {
          q.add(f);
        }
        add(q, "order", ascending ? "asc" : "desc");
        add(q, "limit", Integer.toString(all ? 1000 : Math.min(1000, limit - events.size())));
        add(q, "cursor", cursor);
        JsonObject page = t.get("events", String.join("&", q));
        events.addAll(page.getJsonArray("events", new JsonArray()));
        cursor = page.getString("next_cursor");
      } while (cursor != null && (all || events.size() < limit));
      if (output.json()) {
        ctx.out().println(events.encodePrettily());
      } else if (events.isEmpty()) {
        ctx.out().println("(no events)");
      } else {
        events.forEach(e -> ctx.out().println(line((JsonObject) e)));
      }
      return 0;
    }
  }

  @Command(name = "tail", description = "Follow the audit log live (Ctrl-C to stop).")
  public static final class Tail implements Callable<Integer> {
    private final CliContext ctx;
    @Mixin WorkspaceOption ws;
    @Mixin Output output;

    @Option(names = "--count", paramLabel = "<n>", description = "Stop after this many events.")
    Integer count;

    public Tail(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() throws IOException {
      Target t = Target.of(ctx, ws);
      HttpResponse<InputStream> r = t.stream("tail", "", "text/event-stream");
      int seen = 0;
      try (InputStream in = r.body();
          Stream<String> lines =
              new java.io.BufferedReader(new java.io.InputStreamReader(in, StandardCharsets.UTF_8))
                  .lines()) {
        String event = "message";
        Iterator<String> it = lines.iterator();
        while (it.hasNext()) {
          String l = it.next();
          if (l.startsWith("event:")) {
            event = l.substring(6).trim();
          } else if (l.startsWith("data:")) {
            String data = l.substring(5).trim();
            if (event.equals("audit")) {
              JsonObject e = new JsonObject(data);
              ctx.out().println(output.json() ? e.encode() : line(e));
              ctx.out().flush();
              if (count != null && ++seen >= count) {
                return 0;
              }
            } else if (event.equals("dropped")) {
              ctx.err()
                  .println(
                      "umbra: the tail fell behind and missed "
                          + new JsonObject(data).getLong("dropped")
                          + " events; use `umbra audit query --from` to fill the gap");
            }
          } else if (l.isEmpty()) {
            event = "message";
          }
        }
      }
      ctx.err().println("umbra: the audit service closed the tail");
      return 1;
    }
  }

  @Command(
      name = "verify",
      description = "Check the workspace's hash chain; names the first broken link.")
  public static final class Verify implements Callable<Integer> {
    private final CliContext ctx;
    @Mixin WorkspaceOption ws;
    @Mixin Output output;

    public Verify(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      Target t = Target.of(ctx, ws);
      JsonObject r = t.get("verify", "");
      JsonObject head = r.getJsonObject("head", new JsonObject());
      String text;
      if (r.getBoolean("ok", false)) {
        text =
            "ok: "
                + r.getLong("checked")
                + " events verified; head #"
                + head.getLong("seq")
                + " "
                + head.getString("hash")
                + "\n(keep the head hash somewhere else: a chain rebuilt later will not reproduce it)";
      } else {
        JsonObject b = r.getJsonObject("first_broken", new JsonObject());
        text =
            "BROKEN at #"
                + b.getLong("seq")
                + " ("
                + b.getString("reason")
                + ")"
                + (b.getString("event_id") == null ? "" : ", event " + b.getString("event_id"))
                + "; "
                + r.getLong("checked")
                + " events verified before it";
      }
      output.print(ctx.out(), r, text);
      return r.getBoolean("ok", false) ? 0 : 1;
    }
  }

  @Command(
      name = "export",
      description = "Export events as JSON lines (oldest first) to a file or stdout.")
  public static final class Export implements Callable<Integer> {
    private final CliContext ctx;
    @Mixin WorkspaceOption ws;
    @Mixin Filters filters;

    @Option(
        names = {"-o", "--output"},
        paramLabel = "<file>",
        description = "Write here instead of stdout.")
    Path file;

    public Export(CliContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() throws IOException {
      Target t = Target.of(ctx, ws);
      HttpResponse<InputStream> r = t.stream("export", filters.query(), "application/x-ndjson");
      try (InputStream in = r.body()) {
        if (file == null) {
          in.transferTo(ctx.out());
          ctx.out().flush();
        } else {
          try (OutputStream out = Files.newOutputStream(file)) {
            long bytes = in.transferTo(out);
            ctx.err().println("wrote " + bytes + " bytes to " + file);
          }
        }
      }
      return 0;
    }
  }
}
