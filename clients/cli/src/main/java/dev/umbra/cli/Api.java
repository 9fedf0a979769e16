package dev.umbra.cli;

import dev.umbra.cli.config.Credentials;
import dev.umbra.cli.devices.WorkspaceProtection;
import dev.umbra.client.api.Machine;
import dev.umbra.client.api.Member;
import dev.umbra.client.http.ApiError;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/** The logged-in CLI's view of the services: control-plane calls with the saved API token. */
public final class Api {
  private final CliContext ctx;
  private final Credentials.Saved saved;

  /**
   * Per workspace, this device as a verified trusted device (empty: no Workspace Protection here),
   * looked up once per command and shared by the session's device binding and the relay handshake's
   * credential, so the keyset chain is fetched and verified once; see {@link #trust}.
   */
  private final Map<UUID, Optional<WorkspaceProtection.Trusted>> trust = new ConcurrentHashMap<>();

  public Api(CliContext ctx) {
    this.ctx = ctx;
    this.saved = ctx.credentials().require();
  }

  public Credentials.Saved saved() {
    return saved;
  }

  public JsonObject call(String method, String path, JsonObject body) {
    return ctx.http()
        .send(
            method,
            JsonHttp.resolve(saved.controlPlaneUrl(), path),
            saved.apiToken(),
            body,
            Map.of());
  }

  public JsonObject get(String path) {
    return call("GET", path, null);
  }

  /** The workspace's machines, typed (a malformed answer fails naming the member). */
  public List<Machine> machines(UUID workspaceId) {
    return Machine.listFromJson(all(ControlPlanePaths.machines(workspaceId)));
  }

  /** The workspace's members, typed. */
  public List<Member> members(UUID workspaceId) {
    return Member.listFromJson(all(ControlPlanePaths.members(workspaceId)));
  }

  /** Every item of a paginated list, following next_cursor. */
  public JsonArray all(String path) {
    JsonArray items = new JsonArray();
    String cursor = null;
    do {
      String sep = path.contains("?") ? "&" : "?";
      JsonObject page = get(path + sep + "limit=200" + (cursor == null ? "" : "&cursor=" + cursor));
      items.addAll(page.getJsonArray("items", new JsonArray()));
      cursor = page.getString("next_cursor");
    } while (cursor != null);
    return items;
  }

  public JsonObject discovery() {
    return ctx.http()
        .get(JsonHttp.resolve(saved.controlPlaneUrl(), ControlPlanePaths.DISCOVERY), null);
  }

  public String serviceUrl(String service) {
    String url = discovery().getJsonObject("services", new JsonObject()).getString(service);
    if (url == null) {
      throw new CliException("the control plane's discovery names no " + service + " service");
    }
    return url;
  }

  /**
   * The workspace to act on: {@code --workspace} (name or id) or the one chosen with `umbra
   * workspace use`.
   */
  public UUID workspace(String override) {
    if (override == null) {
      if (saved.workspaceId() == null) {
        throw new CliException(
            "no workspace selected: run `umbra workspace use <name>` or pass --workspace");
      }
      return UUID.fromString(saved.workspaceId());
    }
    return UUID.fromString(find(override).getString("id"));
  }

  /** A workspace of the caller by id or exact name. */
  public JsonObject find(String nameOrId) {
    JsonObject match = null;
    for (Object o : all(ControlPlanePaths.WORKSPACES)) {
      JsonObject w = (JsonObject) o;
      if (w.getString("id").equals(nameOrId) || w.getString("name").equals(nameOrId)) {
        if (match != null && !match.getString("id").equals(w.getString("id"))) {
          throw new CliException("more than one workspace is named '" + nameOrId + "'; use its id");
        }
        match = w;
      }
    }
    if (match == null) {
      throw new CliException("no workspace '" + nameOrId + "' (see `umbra workspace list`)");
    }
    return match;
  }

  /**
   * A short-lived session token for one service in {@code workspace}. When this CLI is a trusted
   * device of the workspace (Workspace Protection) the token is bound to that device ({@code
   * device_id}), so revoking the device voids it at every service; a device that is not trusted
   * (pending, revoked, credential not valid) is an error here, never an unbound token
   * (docs/device-trust.md, "Device-bound sessions"). The device is looked up once per workspace and
   * command; a refusal of the control plane later (revoked meanwhile) is checked again and
   * reported.
   */
  public String session(UUID workspace, String audience) {
    Optional<UUID> device = trust(workspace).map(t -> t.device().id());
    JsonObject body =
        new JsonObject().put("workspace_id", workspace.toString()).put("audience", audience);
    device.ifPresent(d -> body.put("device_id", d.toString()));
    try {
      return call("POST", ControlPlanePaths.SESSIONS, body).getString("token");
    } catch (ApiError e) {
      if (device.isEmpty() || e.status() != 403) {
        throw e;
      }
      // the device stopped being trusted after it was looked up: say why (this throws), never retry
      // unbound
      trust.remove(workspace);
      trust(workspace);
      throw new CliException(
          "the control plane refused a session bound to this CLI's device "
              + device.get()
              + " ("
              + e.getMessage()
              + "): check `umbra devices list`, or run `umbra device trust`");
    }
  }

  /**
   * This CLI as a trusted device of {@code workspace} ({@link WorkspaceProtection#trustedIfAny}),
   * checked once per workspace for the life of this command: a concurrent caller waits for the
   * first one's result (computeIfAbsent), and a failure is not remembered, so it is raised to every
   * caller. A command runs for seconds to hours; a revocation meanwhile is caught where it takes
   * effect, by the control plane refusing the bound session ({@link #session}) and the daemon
   * refusing the credential.
   */
  public Optional<WorkspaceProtection.Trusted> trust(UUID workspace) {
    return trust.computeIfAbsent(workspace, w -> new WorkspaceProtection(this, w).trustedIfAny());
  }

  public CliContext context() {
    return ctx;
  }
}
