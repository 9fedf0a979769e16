package dev.umbra.cli.commands;

import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.cli.Output;
import dev.umbra.cli.UsageException;
import dev.umbra.cli.config.Credentials;
import dev.umbra.client.http.ApiError;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code umbra login <url>}: with {@code --bootstrap-token} on a fresh deployment, creates the
 * first owner and workspace; with {@code --invite-token}, joins a workspace as a new account;
 * otherwise logs in with an API token ({@code --token}, {@code UMBRA_TOKEN}, or one line on stdin).
 */
@Command(
    name = "login",
    description = "Log in to a control plane (API token, bootstrap token or invite token).")
public final class LoginCommand implements Callable<Integer> {
  private final CliContext ctx;

  @Parameters(
      index = "0",
      paramLabel = "<url>",
      description = "The control-plane URL, e.g. https://umbra.example.com")
  String url;

  @Option(names = "--token", description = "An API token (umb_...); else UMBRA_TOKEN or stdin.")
  String token;

  @Option(
      names = "--bootstrap-token",
      paramLabel = "<token>",
      description = "The one-time bootstrap token of a fresh deployment.")
  String bootstrapToken;

  @Option(
      names = "--invite-token",
      paramLabel = "<token>",
      description = "An invitation token (umi_...): join its workspace as a new account.")
  String inviteToken;

  @Option(
      names = {"-w", "--workspace"},
      description = "Workspace to use (with --bootstrap-token: the name of the first workspace).")
  String workspace;

  @Option(names = "--name", description = "Your display name for a new account (default: $USER).")
  String name;

  @Mixin Output output;

  public LoginCommand(CliContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() {
    String cp = url.replaceAll("/+$", "");
    if (!cp.startsWith("http://") && !cp.startsWith("https://")) {
      throw new UsageException("the URL must start with http:// or https://");
    }
    JsonHttp http = ctx.http();
    http.get(
        JsonHttp.resolve(cp, ControlPlanePaths.DISCOVERY), null); // is this an Umbra control plane?
    String account = name != null ? name : ctx.env().getOrDefault("USER", "owner");
    Credentials store = ctx.credentials();
    Credentials.Saved saved;
    String note = "";
    if (bootstrapToken != null) {
      Optional<Credentials.Saved> bootstrapped = bootstrap(cp, account);
      if (bootstrapped.isPresent()) {
        saved = bootstrapped.get();
      } else {
        saved =
            store
                .load()
                .filter(s -> s.controlPlaneUrl().equals(cp))
                .filter(s -> works(cp, s.apiToken()))
                .orElseThrow(
                    () ->
                        new CliException(
                            "this deployment is already bootstrapped; log in with an API token (--token)"));
        note = " (already bootstrapped; kept the saved login)";
        if (workspace != null) {
          saved = select(cp, saved, workspace);
        }
      }
    } else if (inviteToken != null) {
      JsonObject r =
          http.post(
              JsonHttp.resolve(cp, ControlPlanePaths.INVITATION_ACCEPT),
              null,
              new JsonObject().put("token", inviteToken).put("account_name", account));
      JsonObject ws = r.getJsonObject("workspace");
      saved =
          new Credentials.Saved(
              cp,
              r.getJsonObject("api_token").getString("token"),
              ws.getString("id"),
              ws.getString("name"));
    } else {
      String t = token != null ? token : ctx.env().get("UMBRA_TOKEN");
      if (t == null) {
        t = readLine();
      }
      if (t == null || t.isBlank()) {
        throw new UsageException(
            "no API token given: pass --token, set UMBRA_TOKEN, or pipe it on stdin");
      }
      if (!works(cp, t.trim())) {
        throw new CliException("the control plane refused this API token");
      }
      saved = new Credentials.Saved(cp, t.trim(), null, null);
      saved = workspace != null ? select(cp, saved, workspace) : selectOnly(cp, saved);
    }
    store.save(saved);
    JsonObject me = http.get(JsonHttp.resolve(cp, ControlPlanePaths.ME), saved.apiToken());
    output.print(
        ctx.out(),
        new JsonObject()
            .put("control_plane_url", cp)
            .put("account_id", me.getString("account_id"))
            .put("name", me.getString("name"))
            .put("workspace_id", saved.workspaceId())
            .put("workspace_name", saved.workspaceName()),
        "logged in to "
            + cp
            + " as "
            + me.getString("name")
            + (saved.workspaceName() == null
                ? "; no workspace selected (umbra workspace use <name>)"
                : "; workspace " + saved.workspaceName())
            + note);
    return 0;
  }

  private Optional<Credentials.Saved> bootstrap(String cp, String account) {
    try {
      JsonObject r =
          ctx.http()
              .post(
                  JsonHttp.resolve(cp, ControlPlanePaths.BOOTSTRAP),
                  null,
                  new JsonObject()
                      .put("token", bootstrapToken)
                      .put("account_name", account)
                      .put("workspace_name", workspace == null ? "default" : workspace));
      JsonObject ws = r.getJsonObject("workspace");
      return Optional.of(
          new Credentials.Saved(
              cp,
              r.getJsonObject("api_token").getString("token"),
              ws.getString("id"),
              ws.getString("name")));
    } catch (ApiError e) {
      if ("already_bootstrapped".equals(e.code())) {
        return Optional.empty();
      }
      throw e;
    }
  }

  private boolean works(String cp, String apiToken) {
    try {
      ctx.http().get(JsonHttp.resolve(cp, ControlPlanePaths.ME), apiToken);
      return true;
    } catch (ApiError e) {
      if (e.status() == 401) {
        return false;
      }
      throw e;
    }
  }

  private Credentials.Saved select(String cp, Credentials.Saved s, String nameOrId) {
    JsonObject page =
        ctx.http()
            .send(
                "GET",
                JsonHttp.resolve(cp, ControlPlanePaths.WORKSPACES + "?limit=200"),
                s.apiToken(),
                null,
                Map.of());
    for (Object o : page.getJsonArray("items")) {
      JsonObject w = (JsonObject) o;
      if (w.getString("id").equals(nameOrId) || w.getString("name").equals(nameOrId)) {
        return s.withWorkspace(w.getString("id"), w.getString("name"));
      }
    }
    throw new CliException(
        "logged in, but there is no workspace '" + nameOrId + "' for this account");
  }

  private Credentials.Saved selectOnly(String cp, Credentials.Saved s) {
    JsonObject page =
        ctx.http()
            .send(
                "GET",
                JsonHttp.resolve(cp, ControlPlanePaths.WORKSPACES + "?limit=2"),
                s.apiToken(),
                null,
                Map.of());
    if (page.getJsonArray("items").size() == 1) {
      JsonObject w = page.getJsonArray("items").getJsonObject(0);
      return s.withWorkspace(w.getString("id"), w.getString("name"));
    }
    return s;
  }

  private static String readLine() {
    try {
      return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
          .readLine();
    } catch (IOException e) {
      return null;
    }
  }
}
