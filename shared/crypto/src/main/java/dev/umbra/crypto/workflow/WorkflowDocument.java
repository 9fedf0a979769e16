package dev.umbra.crypto.workflow;

import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519PrivateKey;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.sign.TrustPayloadTypes;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The signed form of a workflow definition, {@code umbra-workflow/v1} (docs/device-trust.md,
 * "Signed payloads"; docs/agents.md, "Workflows"): the canonical JSON {@code
 * {"type","workspace_id","name","version","signer_device_id","definition"}} where {@code
 * definition} is {@link WorkflowDefinition#fields()} of the parsed YAML. The payload is never
 * stored: whoever verifies parses the stored YAML text and rebuilds it, so a text changed after
 * signing (in the control plane's database, say) gives other bytes and the signature fails, while
 * reformatting or comments do not change what is signed. Signed by a trusted device's Ed25519 key;
 * the daemon checks that device against its pinned workspace trust.
 */
public final class WorkflowDocument {
  public static final String TYPE = TrustPayloadTypes.WORKFLOW;

  private WorkflowDocument() {}

  /** The canonical payload of {@code definition} as version {@code version} in the workspace. */
  public static String payload(
      UUID workspaceId, long version, UUID signerDeviceId, WorkflowDefinition definition) {
    Map<String, Object> m = new TreeMap<>();
    m.put("type", TYPE);
    m.put("workspace_id", workspaceId.toString());
    m.put("name", definition.name());
    m.put("version", version);
    m.put("signer_device_id", signerDeviceId.toString());
    m.put("definition", definition.fields());
    return CanonicalJson.encodeToString(m);
  }

  /** The 64-byte signature of the payload. */
  public static byte[] sign(
      UUID workspaceId,
      long version,
      UUID signerDeviceId,
      WorkflowDefinition definition,
      Ed25519PrivateKey key) {
    return key.sign(
        payload(workspaceId, version, signerDeviceId, definition).getBytes(StandardCharsets.UTF_8));
  }

  /** Whether {@code key} signed exactly this definition as this version of this workspace. */
  public static boolean verifies(
      UUID workspaceId,
      long version,
      UUID signerDeviceId,
      WorkflowDefinition definition,
      byte[] signature,
      Ed25519PublicKey key) {
    try {
      key.verify(
          payload(workspaceId, version, signerDeviceId, definition)
              .getBytes(StandardCharsets.UTF_8),
          signature);
      return true;
    } catch (CryptoException e) {
      return false;
    }
  }
}
