package dev.umbra.client.messaging;

import dev.umbra.client.binding.Binding;
import dev.umbra.client.binding.BindingStore;
import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.trust.DeviceTrust;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.client.trust.TrustSync;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.messaging.IdentityKeyPair;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.crypto.sign.VerificationCodes;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import java.util.UUID;

/**
 * An agent enrolled from this machine, one per workspace binding, under {@code
 * UMBRA_HOME/agent/<workspace>/}: {@code ed25519.key} and {@code x25519.key} (0600, never leave the
 * machine; the X25519 key is also the agent's messaging identity DH key), {@code agent.json} (ids,
 * name, control plane) and {@code messaging/} (a {@link MessagingStore}). docs/messaging.md,
 * "Clients".
 */
public final class AgentIdentity {
  /** The time the last session request of this process signed. */
  private long lastSessionMs;

  private static final HexFormat HEX = HexFormat.of();

  private final Path dir;
  private final JsonObject meta;
  private final Ed25519KeyPair ed;
  private final X25519KeyPair x;

  private AgentIdentity(Path dir, JsonObject meta, Ed25519KeyPair ed, X25519KeyPair x) {
    this.dir = dir;
    this.meta = meta;
    this.ed = ed;
    this.x = x;
  }

  public static Path dir(Path home, UUID workspace) {
    return home.resolve("agent").resolve(workspace.toString());
  }

  public UUID id() {
    return UUID.fromString(meta.getString("agent_id"));
  }

  public UUID workspaceId() {
    return UUID.fromString(meta.getString("workspace_id"));
  }

  public UUID machineId() {
    return UUID.fromString(meta.getString("machine_id"));
  }

  public String name() {
    return meta.getString("name");
  }

  public String controlPlaneUrl() {
    return meta.getString("control_plane_url");
  }

  public Path dir() {
    return dir;
  }

  public IdentityKeyPair messagingIdentity() {
    return new IdentityKeyPair(ed, x);
  }

  /** The canonical payload the verification code is derived from (docs/messaging.md). */
  public static Map<String, Object> keysPayload(
      UUID workspace, String name, Ed25519PublicKey ed, byte[] x25519) {
    Map<String, Object> m = new TreeMap<>();
    m.put("type", "umbra-agent-keys/v1");
    m.put("workspace_id", workspace.toString());
    m.put("name", name);
    m.put("ed25519_public_key", ed.toHex());
    m.put("x25519_public_key", HEX.formatHex(x25519));
    return m;
  }

  /** The code the admin must type to approve this agent. */
  public String verificationCode() {
    return VerificationCodes.derive(
        keysPayload(workspaceId(), name(), ed.publicKey(), x.publicKey().toBytes()));
  }

  /**
   * Enrols a new agent for {@code binding}: keys are written (0600) before anything is sent, then
   * the request is signed by the machine's binding key and the agent's key.
   */
  public static AgentIdentity enrol(
      Path home, BindingStore bindings, Binding b, String name, JsonHttp http, Clock clock) {
    Path dir = dir(home, b.workspaceId());
    if (Files.exists(dir.resolve("agent.json"), LinkOption.NOFOLLOW_LINKS)) {
      throw new IllegalStateException(
          "an agent is already enrolled from this machine for workspace "
              + b.workspaceId()
              + " ("
              + dir
              + ")");
    }
    KeyFiles.ensurePrivateDirectory(home);
    KeyFiles.ensurePrivateDirectory(dir.getParent());
    KeyFiles.ensurePrivateDirectory(dir);
    Ed25519KeyPair ed = Ed25519KeyPair.generate();
    X25519KeyPair x = X25519KeyPair.generate();
    KeyFiles.save(dir.resolve("ed25519.key"), ed);
    KeyFiles.save(dir.resolve("x25519.key"), x);
    long ts = clock.millis();
    byte[] msg =
        MachineRequests.agentEnrolment(
            b.workspaceId(),
            b.machineId(),
            name,
            ed.publicKey().toBytes(),
            x.publicKey().toBytes(),
            ts);
    JsonObject body =
        TrustSync.signedBody(b, bindings.signingKey(b), ts, msg)
            .put("name", name)
            .put("ed25519_public_key", ed.publicKey().toHex())
            .put("x25519_public_key", HEX.formatHex(x.publicKey().toBytes()))
            .put("proof", HEX.formatHex(ed.privateKey().sign(msg)));
    JsonObject agent =
        http.post(
            JsonHttp.resolve(b.controlPlaneUrl(), ControlPlanePaths.AGENT_ENROLMENTS), null, body);
    JsonObject meta =
        new JsonObject()
            .put("agent_id", agent.getString("id"))
            .put("workspace_id", b.workspaceId().toString())
            .put("machine_id", b.machineId().toString())
            .put("name", name)
            .put("control_plane_url", b.controlPlaneUrl());
    MessagingStore.writeAtomic(
        dir, dir.resolve("agent.json"), meta.encodePrettily().getBytes(StandardCharsets.UTF_8));
    return new AgentIdentity(dir, meta, ed, x);
  }

  /** The agent enrolled for {@code workspace}; throws when none is. */
  public static AgentIdentity load(Path home, UUID workspace) {
    Path dir = dir(home, workspace);
    Path f = dir.resolve("agent.json");
    if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
      throw new NoSuchElementException(
          "no agent enrolled on this machine for workspace "
              + workspace
              + ": run `umbra agent enroll <name>`");
    }
    JsonObject meta =
        new JsonObject(
            new String(MessagingStore.readPrivate(f, 64 * 1024), StandardCharsets.UTF_8));
    return new AgentIdentity(
        dir,
        meta,
        KeyFiles.loadEd25519(dir.resolve("ed25519.key")),
        KeyFiles.loadX25519(dir.resolve("x25519.key")));
  }

  /**
   * Points the agent enrolled for {@code workspace}, if any, at {@code to} when it names {@code
   * from}: its control plane moved (e.g. {@code umbra dev} switched TLS on or off). Its keys stay.
   */
  public static void moveControlPlane(Path home, UUID workspace, String from, String to) {
    Path dir = dir(home, workspace);
    Path f = dir.resolve("agent.json");
    if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    JsonObject meta =
        new JsonObject(
            new String(MessagingStore.readPrivate(f, 64 * 1024), StandardCharsets.UTF_8));
    if (from.equals(meta.getString("control_plane_url"))) {
      meta.put("control_plane_url", to);
      MessagingStore.writeAtomic(dir, f, meta.encodePrettily().getBytes(StandardCharsets.UTF_8));
    }
  }

  /** A control-plane session token for this agent (refused until an admin approved it). */
  public synchronized String session(JsonHttp http, Clock clock) {
    // the control plane takes each agent's session requests only with strictly increasing times
    // (a captured request cannot be replayed), so two requests in one millisecond sign different
    long ts = Math.max(clock.millis(), lastSessionMs + 1);
    lastSessionMs = ts;
    byte[] msg = MachineRequests.agentSession(workspaceId(), id(), ts);
    JsonObject body =
        new JsonObject()
            .put("workspace_id", workspaceId().toString())
            .put("agent_id", id().toString())
            .put("timestamp_ms", ts)
            .put("signature", HEX.formatHex(ed.privateKey().sign(msg)));
    return http.post(
            JsonHttp.resolve(controlPlaneUrl(), ControlPlanePaths.AGENT_SESSIONS), null, body)
        .getString("token");
  }

  public MessagingStore store() {
    return MessagingStore.open(dir.resolve("messaging"));
  }

  /**
   * Pins for the agent's side: a member device's Ed25519 key comes only from the workspace's signed
   * trust material (the credential of that device under the keyset the machine pinned), never from
   * the server alone; anything else is refused.
   */
  public static MessagingClient.Pins devicePins(DeviceTrust trust) {
    return (kind, id) -> {
      if (!"device".equals(kind)) {
        throw new IllegalArgumentException("an agent talks to members' devices only, not " + kind);
      }
      Signed credential = trust.pin().current().get(id);
      TrustModel.Credential c =
          trust
              .authorize(credential)
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "device "
                              + id
                              + " is not a trusted device in the workspace's signed trust"));
      return c.keys().signingKey();
    };
  }
}
