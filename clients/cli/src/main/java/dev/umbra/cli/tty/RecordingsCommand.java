package dev.umbra.cli.tty;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.InWorkspace;
import dev.umbra.cli.UsageException;
import dev.umbra.client.http.ClientTls;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.tty.RecordingDecryptor;
import dev.umbra.client.tty.RecordingDownload;
import dev.umbra.proto.api.WebTtyPaths;
import dev.umbra.proto.webtty.RecordedKind;
import dev.umbra.proto.webtty.RecordingHeader;
import dev.umbra.proto.webtty.TtyStream;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code umbra recordings list|export}: WebTTY recordings, decrypted only here (docs/webtty.md).
 */
@Command(
    name = "recordings",
    description = "WebTTY session recordings (ciphertext on the server, decrypted here).",
    subcommands = {RecordingsCommand.ListCmd.class, RecordingsCommand.Export.class})
public final class RecordingsCommand {

  static URI engine(Api api) {
    return URI.create(api.serviceUrl("webtty-engine"));
  }

  @Command(name = "list", description = "List recorded sessions (yours; every one for admins).")
  public static final class ListCmd extends InWorkspace {
    @Option(
        names = "--limit",
        paramLabel = "<n>",
        defaultValue = "50",
        description = "At most this many sessions (default ${DEFAULT-VALUE}).")
    int limit;

    public ListCmd(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      String token = api.session(w, "webtty-engine");
      JsonObject body =
          ctx.http()
              .get(
                  JsonHttp.resolve(
                      engine(api).toString(), WebTtyPaths.RECORDINGS + "?limit=" + limit),
                  token);
      JsonArray sessions = body.getJsonArray("sessions", new JsonArray());
      if (output.json()) {
        output.print(ctx.out(), body, "");
        return;
      }
      output.table(
          ctx.out(),
          sessions,
          List.of(
              "session_id",
              "server_id",
              "started_at",
              "ended_at",
              "end_reason",
              "exit_status",
              "events"));
    }
  }

  @Command(
      name = "export",
      description =
          "Decrypt a recording with this device's key and print it like terminal scrollback.")
  public static final class Export extends InWorkspace {
    @Parameters(index = "0", paramLabel = "<session>")
    String session;

    @Option(
        names = "--include-stdin",
        description = "Also list what was typed (decrypted), after the scrollback.")
    boolean includeStdin;

    @Option(
        names = "--raw",
        description = "Write the decrypted output bytes as they were (escape sequences included).")
    boolean raw;

    @Option(
        names = "--max-lines",
        paramLabel = "<n>",
        defaultValue = "" + ScrollbackRenderer.DEFAULT_MAX_LINES,
        description = "Keep at most this many lines of scrollback (default ${DEFAULT-VALUE}).")
    int maxLines;

    public Export(CliContext ctx) {
      super(ctx);
    }

    @Override
    protected void run(Api api, UUID w) {
      if (!session.matches("[A-Za-z0-9._:-]{1,128}")) {
        throw new UsageException("not a session id: " + session);
      }
      String token = api.session(w, "webtty-engine");
      byte[] body;
      try {
        body =
            RecordingDownload.export(
                ctx.http(), engine(api), session, token, RecordingDownload.MAX_BYTES);
      } catch (RecordingDownload.Failure e) {
        throw new CliException(
            "recording "
                + session
                + ": "
                + e.getMessage()
                + (e.status() == 404 ? " (no such recording, or not yours)" : ""));
      } catch (java.io.IOException e) {
        throw new CliException(
            "cannot reach the WebTTY engine: "
                + (ClientTls.isTls(e) ? ClientTls.explain(e) : e.getMessage()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CliException("interrupted");
      }
      TtyKeys keys = TtyKeys.loadOrCreate(ctx.home());
      int cols;
      List<RecordingDecryptor.Chunk> chunks;
      try {
        InputStream in = new ByteArrayInputStream(body);
        RecordingHeader header = RecordingHeader.parseDelimitedFrom(new ByteArrayInputStream(body));
        cols = header == null ? 80 : (int) Math.max(1, header.getInitialSize().getCols());
        chunks = RecordingDecryptor.decrypt(in, w, keys.agreement(), includeStdin);
      } catch (java.io.IOException | RuntimeException e) {
        throw new CliException(
            "cannot decrypt recording " + session + " with this device's key: " + e.getMessage());
      }
      ctx.out().print(render(chunks, cols, maxLines, raw, includeStdin));
      ctx.out().flush();
    }
  }

  /** The scrollback text (or raw bytes) of decrypted chunks, then the typed input when asked. */
  static String render(
      List<RecordingDecryptor.Chunk> chunks,
      int cols,
      int maxLines,
      boolean raw,
      boolean includeStdin) {
    ScrollbackRenderer screen = new ScrollbackRenderer(cols, maxLines);
    StringBuilder rawOut = new StringBuilder();
    StringBuilder typed = new StringBuilder();
    for (RecordingDecryptor.Chunk c : chunks) {
      if (c.isNote()) {
        // the receiver rules' findings (a gap, a repeat, unreadable stdin) mark their spot, never
        // rendered as output
        String mark = "\r\n[umbra] " + c.note() + "\r\n";
        if (raw) {
          rawOut.append(mark);
        } else {
          screen.write(mark.getBytes(StandardCharsets.UTF_8));
        }
        typed
            .append(Instant.ofEpochMilli(c.timeMs()))
            .append(" [umbra] ")
            .append(c.note())
            .append('\n');
      } else if (c.kind() == RecordedKind.RECORDED_KIND_RESIZE) {
        screen.resize(c.cols());
      } else if (c.kind() == RecordedKind.RECORDED_KIND_DATA
          && c.stream() == TtyStream.TTY_STREAM_STDIN) {
        typed
            .append(Instant.ofEpochMilli(c.timeMs()))
            .append(' ')
            .append(visible(c.bytes()))
            .append('\n');
      } else if (c.kind() == RecordedKind.RECORDED_KIND_DATA) {
        if (raw) {
          rawOut.append(new String(c.bytes(), StandardCharsets.UTF_8));
        } else {
          screen.write(c.bytes());
        }
      }
    }
    String out = raw ? rawOut.toString() : screen.text();
    if (includeStdin) {
      out += "\n--- input ---\n" + typed;
    }
    return out;
  }

  private static String visible(byte[] bytes) {
    StringBuilder sb = new StringBuilder();
    for (char ch : new String(bytes, StandardCharsets.UTF_8).toCharArray()) {
      if (ch == '\r' || ch == '\n') {
        sb.append(ch == '\r' ? "\\r" : "\\n");
      } else if (ch < 0x20 || ch == 0x7f) {
        sb.append('^').append((char) (ch == 0x7f ? '?' : ch + 64));
      } else {
        sb.append(ch);
      }
    }
    return sb.toString();
  }
}
