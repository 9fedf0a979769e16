package dev.umbra.crypto.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519PrivateKey;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.testing.Hex;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * {@code workflow.json} (docs/agents.md, "Workflows"; conformance/README.md): a definition's YAML
 * text, the canonical form of its parse, the signed {@code umbra-workflow/v1} payload built from it
 * with the workspace, version and signer, the signer's key and signature, a second text that means
 * the same (reformatted, commented) and gives the same payload, and a tampered text (one argument
 * changed, as an UPDATE in the database would) whose payload the signature does not verify.
 */
public final class WorkflowVectors {
  static final String DEPLOY =
      """
      # deploy the web app
      name: deploy-web
      description: "Build, test and deploy"
      inputs:
        env:
          default: staging
          values: [staging, prod]
      steps:
        - id: build
          machine: build-box
          run: [make, build]
        - id: deploy
          machine: build-box
          run:
            - ./deploy.sh
            - "--env=${inputs.env}"
          if: inputs.env == 'prod'
          timeout_seconds: 600
        - id: notify
          machine: build-box
          run: [echo, 'done: it''s over']
          if: always()
      """;

  static final String DEPLOY_REFORMATTED =
      """
      name: 'deploy-web'
      description: Build, test and deploy
      steps:
      - id: build
        machine: "build-box"
        run:
        - make
        - build   # the only target
      - machine: build-box
        id: deploy
        if: inputs.env == 'prod'
        run: ["./deploy.sh", "--env=${inputs.env}"]
        timeout_seconds: "600"
        continue_on_failure: false
      - id: notify
        run: [echo, "done: it's over"]
        machine: build-box
        if: always()
      inputs:
        env:
          values:
            - staging
            - prod
          default: staging
          required: false
      """;

  static final String ONE_STEP =
      """
      name: uptime
      steps:
        - id: check
          machine: web-1
          run: [uptime]
      """;

  private WorkflowVectors() {}

  public static List<Map<String, Object>> generate(
      Function<String, String> uuid, BiFunction<String, Integer, byte[]> bytes) {
    List<Map<String, Object>> list = new ArrayList<>();
    list.add(
        vector(
            "workflow-1",
            3,
            DEPLOY,
            DEPLOY_REFORMATTED,
            DEPLOY.replace("make, build", "make, pwn"),
            uuid,
            bytes));
    list.add(
        vector(
            "workflow-2",
            1,
            ONE_STEP,
            ONE_STEP.replace("  - id", "  # one\n  - id"),
            ONE_STEP.replace("[uptime]", "[sh, -c, id]"),
            uuid,
            bytes));
    return list;
  }

  private static Map<String, Object> vector(
      String label,
      long version,
      String yaml,
      String same,
      String tampered,
      Function<String, String> uuid,
      BiFunction<String, Integer, byte[]> bytes) {
    UUID workspace = UUID.fromString(uuid.apply(label + "/workspace"));
    UUID signer = UUID.fromString(uuid.apply(label + "/signer-device"));
    byte[] seed = bytes.apply(label + "/signer", 32);
    Ed25519PrivateKey key = Ed25519PrivateKey.fromBytes(seed);
    WorkflowDefinition d = WorkflowDefinition.parse(yaml);
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("yaml", yaml);
    v.put("same_yaml", same);
    v.put("tampered_yaml", tampered);
    v.put("workspace_id", workspace.toString());
    v.put("version", version);
    v.put("signer_device_id", signer.toString());
    v.put("definition", d.fields());
    v.put("payload", WorkflowDocument.payload(workspace, version, signer, d));
    v.put(
        "tampered_payload",
        WorkflowDocument.payload(workspace, version, signer, WorkflowDefinition.parse(tampered)));
    v.put("signer_private_key", Hex.e(seed));
    v.put("signer_public_key", key.publicKey().toHex());
    v.put("signature", Hex.e(WorkflowDocument.sign(workspace, version, signer, d, key)));
    return v;
  }

  /** Every mismatch of one vector, replayed as another implementation would. */
  public static List<String> replay(JsonNode v) {
    List<String> f = new ArrayList<>();
    UUID workspace = UUID.fromString(v.get("workspace_id").asText());
    UUID signer = UUID.fromString(v.get("signer_device_id").asText());
    long version = v.get("version").asLong();
    WorkflowDefinition d = WorkflowDefinition.parse(v.get("yaml").asText());
    String payload = WorkflowDocument.payload(workspace, version, signer, d);
    if (!payload.equals(v.get("payload").asText())) {
      f.add("payload of " + d.name());
    }
    if (!CanonicalJson.encodeToString(d.fields())
        .equals(CanonicalJson.canonicalize(v.get("definition").toString()))) {
      f.add("definition of " + d.name());
    }
    WorkflowDefinition same = WorkflowDefinition.parse(v.get("same_yaml").asText());
    if (!WorkflowDocument.payload(workspace, version, signer, same).equals(payload)) {
      f.add("a reformatted text changed the payload of " + d.name());
    }
    Ed25519PublicKey pub = Ed25519PublicKey.fromHex(v.get("signer_public_key").asText());
    if (!Ed25519PrivateKey.fromBytes(Hex.d(v.get("signer_private_key").asText()))
        .publicKey()
        .toHex()
        .equals(pub.toHex())) {
      f.add("signer key of " + d.name());
    }
    byte[] sig = Hex.d(v.get("signature").asText());
    if (!WorkflowDocument.verifies(workspace, version, signer, d, sig, pub)) {
      f.add("signature of " + d.name());
    }
    try {
      pub.verify(payload.getBytes(StandardCharsets.UTF_8), sig);
    } catch (dev.umbra.crypto.CryptoException e) {
      f.add("raw signature of " + d.name());
    }
    WorkflowDefinition tampered = WorkflowDefinition.parse(v.get("tampered_yaml").asText());
    if (WorkflowDocument.verifies(workspace, version, signer, tampered, sig, pub)
        || !WorkflowDocument.payload(workspace, version, signer, tampered)
            .equals(v.get("tampered_payload").asText())) {
      f.add("the tampered text of " + d.name());
    }
    if (WorkflowDocument.verifies(workspace, version + 1, signer, d, sig, pub)
        || WorkflowDocument.verifies(UUID.randomUUID(), version, signer, d, sig, pub)) {
      f.add("the signature of " + d.name() + " passes for another version or workspace");
    }
    return f;
  }
}
