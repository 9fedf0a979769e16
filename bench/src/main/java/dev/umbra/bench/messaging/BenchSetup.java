package dev.umbra.bench.messaging;

import dev.umbra.client.http.JsonHttp;
import dev.umbra.client.messaging.AgentIdentity;
import dev.umbra.crypto.envelope.WorkspaceKeyEnvelopes;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.KeyFiles;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.sign.MachineRequests;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.crypto.sign.VerificationCodes;
import dev.umbra.proto.api.ControlPlanePaths;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The messaging benchmark's principals, made through the control plane's own API as a deployment
 * makes them (docs/messaging.md): a bootstrapped workspace whose owner protects it with a keyset
 * and a first trusted device, a machine binding (as the pairing service creates it), an agent
 * enrolled from that machine (signed by the binding key and the agent key), approved by its
 * verification code, and the owner's conversation with it. Each end's keys and ids are written to
 * its own directory (key files 0600 in 0700), which its process reads.
 */
final class BenchSetup {
  static final HexFormat HEX = HexFormat.of();
  private static final String CREATED = "2026-12-05T00:00:00Z";

  private BenchSetup() {}

  /** What the coordinator keeps: the workspace and the two principals. */
  record Made(UUID workspace, UUID device, UUID agent, UUID conversation) {}

  static Made run(
      String cpUrl, String bootstrapToken, String internalToken, Path ownerDir, Path agentDir) {
    JsonHttp http = new JsonHttp();
    JsonObject boot =
        http.post(
            JsonHttp.resolve(cpUrl, ControlPlanePaths.BOOTSTRAP),
            null,
            new JsonObject()
                .put("token", bootstrapToken)
                .put("account_name", "owner")
                .put("workspace_name", "bench"));
    String apiToken = boot.getJsonObject("api_token").getString("token");
    UUID ws = UUID.fromString(boot.getJsonObject("workspace").getString("id"));

    Ed25519KeyPair deviceKey = Ed25519KeyPair.generate();
    UUID device = protect(http, cpUrl, apiToken, ws, deviceKey);

    Ed25519KeyPair machineKey = Ed25519KeyPair.generate();
    JsonObject machine =
        http.send(
            "POST",
            JsonHttp.resolve(cpUrl, "/internal/v1/workspaces/" + ws + "/machines"),
            null,
            new JsonObject()
                .put("install_id", UUID.randomUUID().toString())
                .put("x25519_public_key", X25519KeyPair.generate().publicKey().toHex())
                .put("ed25519_public_key", machineKey.publicKey().toHex())
                .put("name", "bench-box")
                .put("os", "linux"),
            Map.of("X-Umbra-Internal", internalToken));
    UUID machineId = UUID.fromString(machine.getString("id"));

    Ed25519KeyPair agentEd = Ed25519KeyPair.generate();
    X25519KeyPair agentX = X25519KeyPair.generate();
    UUID agent = enrolAndApprove(http, cpUrl, apiToken, ws, machineId, machineKey, agentEd, agentX);

    String deviceSession = OwnerEnd.deviceSession(http, cpUrl, apiToken, ws, device);
    JsonObject conv =
        http.post(
            JsonHttp.resolve(cpUrl, ControlPlanePaths.conversations(ws)),
            deviceSession,
            new JsonObject().put("agent_id", agent.toString()));
    UUID conversation = UUID.fromString(conv.getString("id"));

    KeyFiles.ensurePrivateDirectory(ownerDir);
    KeyFiles.save(ownerDir.resolve("device-ed25519.key"), deviceKey);
    writePrivate(
        ownerDir.resolve("owner.json"),
        new JsonObject()
            .put("workspace_id", ws.toString())
            .put("device_id", device.toString())
            .put("api_token", apiToken)
            .put("conversation_id", conversation.toString())
            .put("agent_id", agent.toString())
            .put("agent_ed25519", agentEd.publicKey().toHex()));
    KeyFiles.ensurePrivateDirectory(agentDir);
    KeyFiles.save(agentDir.resolve("ed25519.key"), agentEd);
    KeyFiles.save(agentDir.resolve("x25519.key"), agentX);
    writePrivate(
        agentDir.resolve("agent.json"),
        new JsonObject()
            .put("workspace_id", ws.toString())
            .put("agent_id", agent.toString())
            .put("device_id", device.toString())
            .put("device_ed25519", deviceKey.publicKey().toHex()));
    return new Made(ws, device, agent, conversation);
  }

  /** Creates the workspace keyset with the owner's first trusted device (signed by the keyset). */
  private static UUID protect(
      JsonHttp http, String cpUrl, String apiToken, UUID ws, Ed25519KeyPair deviceKey) {
    Ed25519KeyPair s = Ed25519KeyPair.generate();
    X25519KeyPair e = X25519KeyPair.generate();
    P256KeyPair p = P256KeyPair.generate();
    UUID device = UUID.randomUUID();
    Map<String, Object> keyset = new TreeMap<>();
    keyset.put("type", "umbra-keyset/v1");
    keyset.put("workspace_id", ws.toString());
    keyset.put("version", 1);
    keyset.put("signing_public_key", s.publicKey().toHex());
    keyset.put("encryption_public_key", e.publicKey().toHex());
    keyset.put("created_at", CREATED);
    Map<String, Object> request = deviceFields(ws, device, deviceKey, p);
    request.put("type", "umbra-device-request/v1");
    request.put("timestamp_ms", System.currentTimeMillis());
    Map<String, Object> credential = deviceFields(ws, device, deviceKey, p);
    credential.put("type", "umbra-device-credential/v1");
    credential.put("keyset_version", 1);
    credential.put("issued_at", CREATED);
    byte[] envelope =
        WorkspaceKeyEnvelopes.seal(
                p.publicKey(), "bundle".getBytes(StandardCharsets.UTF_8), new byte[0])
            .toJson();
    http.post(
        JsonHttp.resolve(cpUrl, ControlPlanePaths.keyset(ws)),
        apiToken,
        new JsonObject()
            .put("keyset", signed(keyset, s))
            .put("request", signed(request, deviceKey))
            .put("credential", signed(credential, s))
            .put("envelope", new JsonObject(new String(envelope, StandardCharsets.UTF_8))));
    return device;
  }

  private static Map<String, Object> deviceFields(
      UUID ws, UUID device, Ed25519KeyPair ed, P256KeyPair p) {
    Map<String, Object> m = new TreeMap<>();
    m.put("workspace_id", ws.toString());
    m.put("device_id", device.toString());
    m.put("ed25519_public_key", ed.publicKey().toHex());
    m.put("p256_public_key", p.publicKey().toHex());
    m.put("name", "bench-laptop");
    m.put("kind", "cli");
    return m;
  }

  private static JsonObject signed(Map<String, Object> fields, Ed25519KeyPair key) {
    return Signed.sign(fields, key.privateKey()).toJson();
  }

  /** Enrols the agent from the machine (both signatures) and approves it with its code. */
  private static UUID enrolAndApprove(
      JsonHttp http,
      String cpUrl,
      String apiToken,
      UUID ws,
      UUID machineId,
      Ed25519KeyPair machineKey,
      Ed25519KeyPair ed,
      X25519KeyPair x) {
    String name = "bench-agent";
    long ts = System.currentTimeMillis();
    byte[] msg =
        MachineRequests.agentEnrolment(
            ws, machineId, name, ed.publicKey().toBytes(), x.publicKey().toBytes(), ts);
    JsonObject enrolled =
        http.post(
            JsonHttp.resolve(cpUrl, ControlPlanePaths.AGENT_ENROLMENTS),
            null,
            new JsonObject()
                .put("workspace_id", ws.toString())
                .put("machine_id", machineId.toString())
                .put("timestamp_ms", ts)
                .put("signature", HEX.formatHex(machineKey.privateKey().sign(msg)))
                .put("name", name)
                .put("ed25519_public_key", ed.publicKey().toHex())
                .put("x25519_public_key", HEX.formatHex(x.publicKey().toBytes()))
                .put("proof", HEX.formatHex(ed.privateKey().sign(msg))));
    UUID agent = UUID.fromString(enrolled.getString("id"));
    String code =
        VerificationCodes.derive(
            AgentIdentity.keysPayload(ws, name, ed.publicKey(), x.publicKey().toBytes()));
    http.post(
        JsonHttp.resolve(cpUrl, ControlPlanePaths.agentApproval(ws, agent)),
        apiToken,
        new JsonObject().put("verification_code", code));
    return agent;
  }

  static void writePrivate(Path file, JsonObject json) {
    try {
      Files.writeString(file, json.encode(), StandardCharsets.UTF_8);
      Files.setPosixFilePermissions(
          file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static JsonObject read(Path file) {
    try {
      return new JsonObject(Files.readString(file, StandardCharsets.UTF_8));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
