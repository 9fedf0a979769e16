package dev.umbra.cli.messaging;

import dev.umbra.cli.CliContext;
import dev.umbra.cli.CliException;
import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.http.ApiError;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.messaging.AgentIdentity;
import dev.umbra.client.messaging.MessagingClient;
import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.trust.TrustSync;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The agent's side on its machine: the binding it was enrolled from, its keys, its session token
 * (renewed when refused), the workspace's signed trust (re-synced when a device is not in it yet)
 * as the source of members' device keys, and its messaging client (docs/messaging.md, "Clients").
 */
final class AgentRuntime {
  final CliContext ctx;
  final Binding binding;
  final AgentIdentity agent;
  final MessagingClient client;
  private final AtomicReference<String> token = new AtomicReference<>();

  /** The control plane answered a session request with a refusal (not approved, or revoked). */
  private volatile boolean sessionRefused;

  private final AtomicReference<DeviceTrust> trust = new AtomicReference<>();
  private final Map<String, String> accounts = new ConcurrentHashMap<>();

  private AgentRuntime(CliContext ctx, Binding binding, AgentIdentity agent) {
    this.ctx = ctx;
    this.binding = binding;
    this.agent = agent;
    this.client =
        new MessagingClient(
            this::call,
            agent.workspaceId(),
            agent.id(),
            agent.messagingIdentity(),
            agent.store(),
            this::pin,
            ctx.clock());
  }

  /** The binding of this machine for {@code workspace} (the only one when null). */
  static Binding binding(CliContext ctx, String workspace) {
    List<Binding> all = new BindingStore(ctx.home()).list();
    List<Binding> match =
        all.stream()
            .filter(b -> workspace == null || b.workspaceId().toString().equals(workspace))
            .toList();
    if (match.size() != 1) {
      throw new CliException(
          match.isEmpty()
              ? "this machine is not paired"
                  + (workspace == null ? "" : " with workspace " + workspace)
                  + ": run `umbra daemon pair`"
              : "this machine is paired with several workspaces: pass --workspace <workspace-id>");
    }
    return match.get(0);
  }

  static AgentRuntime open(CliContext ctx, String workspace) {
    Binding b = binding(ctx, workspace);
    AgentIdentity a;
    try {
      a = AgentIdentity.load(ctx.home(), b.workspaceId());
    } catch (java.util.NoSuchElementException e) {
      throw new CliException(e.getMessage());
    }
    AgentRuntime r = new AgentRuntime(ctx, b, a);
    r.client.ensurePrekeys();
    return r;
  }

  /** True once a session request was refused: retrying cannot help until an admin acts. */
  boolean sessionRefused() {
    return sessionRefused;
  }

  String token() {
    String t = token.get();
    if (t == null) {
      try {
        t = agent.session(ctx.http(), ctx.clock());
      } catch (ApiError e) {
        if (e.status() <= 0) { // no answer: not a refusal, and not about approval
          throw new CliException(
              "could not get this agent a session from the control plane at "
                  + agent.controlPlaneUrl()
                  + " ("
                  + e.getMessage()
                  + ")");
        }
        sessionRefused = true;
        throw new CliException(
            "the control plane refused this agent a session ("
                + e.getMessage()
                + "): is it approved (`umbra agents approve` on an admin's CLI), or was it revoked"
                + " (`umbra agents list`; a revoked agent is enrolled anew with `umbra agent"
                + " enroll`)?");
      }
      token.set(t);
    }
    return t;
  }

  /** Forgets the session token (its live socket was closed as it expired): the next is fresh. */
  void forgetToken() {
    token.set(null);
  }

  /**
   * A messaging call; a refused token (expired, or revoked: 403 {@code revoked}) is renewed once,
   * and the new session's answer says whether the agent itself is still approved.
   */
  JsonObject call(String method, String path, JsonObject body) {
    try {
      return send(method, path, body);
    } catch (ApiError e) {
      if (e.status() != 401 && !(e.status() == 403 && "revoked".equals(e.code()))) {
        throw e;
      }
      token.set(null);
      return send(method, path, body);
    }
  }

  private JsonObject send(String method, String path, JsonObject body) {
    return ctx.http()
        .send(method, JsonHttp.resolve(agent.controlPlaneUrl(), path), token(), body, Map.of());
  }

  private DeviceTrust syncTrust() {
    BindingStore store = new BindingStore(ctx.home());
    DeviceTrust t =
        new TrustSync(ctx.http(), ctx.clock())
            .sync(
                binding,
                store.root().resolve(binding.machineId().toString()),
                store.signingKey(binding))
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "the workspace has no signed trust yet (Workspace Protection is off)"));
    trust.set(t);
    return t;
  }

  /** A member device's key from the signed trust; re-synced once when the device is not in it. */
  private dev.umbra.crypto.keys.Ed25519PublicKey pin(String kind, UUID id) {
    DeviceTrust t = trust.get() == null ? syncTrust() : trust.get();
    try {
      return AgentIdentity.devicePins(t).pinned(kind, id);
    } catch (IllegalArgumentException e) {
      return AgentIdentity.devicePins(syncTrust()).pinned(kind, id);
    }
  }

  /** The conversation with member {@code account} (created on first use). */
  UUID conversation(UUID account) {
    JsonObject c =
        call(
            "POST",
            ControlPlanePaths.conversations(agent.workspaceId()),
            new JsonObject().put("account_id", account.toString()));
    return UUID.fromString(c.getString("id"));
  }

  /** Entries with the member's {@code account_id} added (from the agent's conversations). */
  List<JsonObject> withAccounts(List<JsonObject> entries) {
    List<JsonObject> out = new ArrayList<>();
    for (JsonObject e : entries) {
      String conv = e.getString("conversation_id");
      if (conv != null && !accounts.containsKey(conv)) {
        for (Object o :
            call("GET", ControlPlanePaths.conversations(agent.workspaceId()) + "?limit=100", null)
                .getJsonArray("items", new JsonArray())) {
          JsonObject c = (JsonObject) o;
          accounts.put(c.getString("id"), c.getString("account_id"));
        }
      }
      JsonObject copy = e.copy();
      String account = conv == null ? null : accounts.get(conv);
      if (account != null) {
        copy.put("account_id", account);
      }
      out.add(copy);
    }
    return out;
  }
}
