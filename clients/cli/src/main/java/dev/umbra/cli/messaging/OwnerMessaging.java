package dev.umbra.cli.messaging;

import dev.umbra.cli.Api;
import dev.umbra.cli.CliException;
import dev.umbra.cli.devices.DeviceStore;
import dev.umbra.cli.devices.WorkspaceProtection;
import dev.umbra.client.http.ApiError;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.messaging.MessagingClient;
import dev.umbra.client.messaging.MessagingStore;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.messaging.IdentityKeyPair;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The owner's side: this CLI's trusted device of the workspace as a messaging identity (its device
 * Ed25519 key, the one the workspace's signed credential names, with an X25519 identity key of its
 * own under {@code UMBRA_HOME/cli/messaging/<workspace>/<device>/}) and the agents it pins
 * (docs/messaging.md, "Clients").
 */
final class OwnerMessaging {
  final Api api;
  final UUID workspace;
  final UUID device;
  final MessagingStore store;
  final MessagingClient client;
  private final AtomicReference<String> token;

  private OwnerMessaging(
      Api api,
      UUID workspace,
      UUID device,
      MessagingStore store,
      AtomicReference<String> token,
      MessagingClient client) {
    this.api = api;
    this.workspace = workspace;
    this.device = device;
    this.store = store;
    this.token = token;
    this.client = client;
  }

  /**
   * A messaging call with the device-bound session token; a refused (expired) token is renewed
   * once, so a long `umbra msg watch` keeps working.
   */
  static JsonObject call(
      Api api,
      UUID workspace,
      AtomicReference<String> token,
      String method,
      String path,
      JsonObject body) {
    String url = api.saved().controlPlaneUrl();
    try {
      return api.context()
          .http()
          .send(method, JsonHttp.resolve(url, path), token.get(), body, Map.of());
    } catch (ApiError e) {
      if (e.status() != 401) {
        throw e;
      }
      token.set(api.session(workspace, "control-plane"));
      return api.context()
          .http()
          .send(method, JsonHttp.resolve(url, path), token.get(), body, Map.of());
    }
  }

  static Path storeDir(Path home, UUID workspace, UUID device) {
    return home.resolve("cli")
        .resolve("messaging")
        .resolve(workspace.toString())
        .resolve(device.toString());
  }

  /** Opens the owner's messaging for {@code workspace}; publishes prekeys when needed. */
  static OwnerMessaging open(Api api, UUID workspace) {
    WorkspaceProtection.Trusted t =
        api.trust(workspace)
            .orElseThrow(
                () ->
                    new CliException(
                        "messaging needs this CLI to be a trusted device of the workspace: run `umbra device trust`"));
    DeviceStore.Device d = t.device();
    Path home = api.context().home();
    KeyFiles.ensurePrivateDirectory(home.resolve("cli"));
    KeyFiles.ensurePrivateDirectory(home.resolve("cli").resolve("messaging"));
    KeyFiles.ensurePrivateDirectory(
        home.resolve("cli").resolve("messaging").resolve(workspace.toString()));
    Path dir = storeDir(home, workspace, d.id());
    MessagingStore store = MessagingStore.open(dir);
    IdentityKeyPair identity =
        new IdentityKeyPair(
            d.signing(), KeyFiles.loadOrGenerateX25519(dir.resolve("identity-x25519.key")));
    AtomicReference<String> token = new AtomicReference<>(api.session(workspace, "control-plane"));
    MessagingClient.Transport transport =
        (method, path, body) -> call(api, workspace, token, method, path, body);
    MessagingClient client =
        new MessagingClient(
            transport,
            workspace,
            d.id(),
            identity,
            store,
            (kind, id) -> agentPin(api, workspace, store, kind, id),
            api.context().clock());
    client.ensurePrekeys();
    return new OwnerMessaging(api, workspace, d.id(), store, token, client);
  }

  /**
   * An agent's Ed25519 key as this device pinned it: pinned by `umbra agents approve` (after the
   * admin compared the verification code computed here from the keys), else on first use from the
   * approved agent's record; a later change is refused.
   */
  static Ed25519PublicKey agentPin(
      Api api, UUID workspace, MessagingStore store, String kind, UUID id) {
    if (!"agent".equals(kind)) {
      throw new IllegalArgumentException("a member's device talks to agents only, not " + kind);
    }
    var pinned = store.pin(id);
    if (pinned.isPresent()) {
      return Ed25519PublicKey.fromHex(pinned.get());
    }
    JsonObject a = api.get(ControlPlanePaths.agent(workspace, id));
    if (!"approved".equals(a.getString("status"))) {
      throw new IllegalArgumentException("agent " + id + " is not approved");
    }
    String hex = a.getString("ed25519_public_key");
    Ed25519PublicKey key = Ed25519PublicKey.fromHex(hex);
    store.savePin(id, key.toHex());
    return key;
  }

  /** An agent of the workspace by id or unique name. */
  static JsonObject resolveAgent(Api api, UUID workspace, String idOrName) {
    JsonObject match = null;
    boolean revoked = false;
    for (Object o : api.all(ControlPlanePaths.agents(workspace))) {
      JsonObject a = (JsonObject) o;
      if (a.getString("id").equals(idOrName)) {
        return a;
      }
      if (a.getString("name").equals(idOrName)) {
        if ("revoked".equals(a.getString("status"))) {
          revoked = true;
          continue;
        }
        if (match != null) {
          throw new CliException("more than one agent is named '" + idOrName + "'; use its id");
        }
        match = a;
      }
    }
    if (match == null) {
      // `agents list` shows a revoked agent: "no agent" would contradict it
      throw new CliException(
          revoked
              ? revokedAgent(idOrName)
              : "no agent '" + idOrName + "' in this workspace (see `umbra agents list`)");
    }
    return match;
  }

  /**
   * An agent that can take a message: approved. A pending or revoked one is refused here, saying
   * which and what to do, rather than by the server's "agent not found" further on.
   */
  static JsonObject messageable(JsonObject agent) {
    String name = agent.getString("name");
    return switch (String.valueOf(agent.getString("status"))) {
      case "approved" -> agent;
      case "revoked" -> throw new CliException(revokedAgent(name));
      default ->
          throw new CliException(
              "agent '"
                  + name
                  + "' is pending approval: an admin approves it with `umbra agents approve "
                  + name
                  + " --code <the code its machine showed>`");
    };
  }

  private static String revokedAgent(String name) {
    return "agent '"
        + name
        + "' was revoked: it can no longer send or receive messages (a new agent is enrolled on"
        + " its machine with `umbra agent enroll`)";
  }

  /** The conversation of this member with {@code agent} (created on first use). */
  UUID conversation(UUID agent) {
    JsonObject c =
        call(
            "POST",
            ControlPlanePaths.conversations(workspace),
            new JsonObject().put("agent_id", agent.toString()));
    return UUID.fromString(c.getString("id"));
  }

  /** A call with this device's messaging session token. */
  JsonObject call(String method, String path, JsonObject body) {
    return call(api, workspace, token, method, path, body);
  }
}
