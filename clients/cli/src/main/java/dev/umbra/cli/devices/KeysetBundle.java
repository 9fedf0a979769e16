package dev.umbra.cli.devices;

import dev.umbra.client.trust.TrustModel;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.envelope.WorkspaceKeyEnvelope;
import dev.umbra.crypto.envelope.WorkspaceKeyEnvelopes;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.Ed25519PrivateKey;
import dev.umbra.crypto.keys.P256KeyPair;
import dev.umbra.crypto.keys.P256PublicKey;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PrivateKey;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The workspace's private keyset (version {@code version}): the Ed25519 signing key that signs
 * credentials, revocations, kits and the next keyset, the X25519 encryption key vault entries are
 * sealed to, and the encryption keys of earlier versions (so older entries stay readable). It
 * exists only in memory on a trusted device and, sealed, in envelopes (docs/device-trust.md).
 */
public record KeysetBundle(
    UUID workspaceId,
    int version,
    Ed25519KeyPair signing,
    X25519KeyPair encryption,
    Map<Integer, X25519KeyPair> previous) {
  public static final String FORMAT = "umbra-keyset-bundle/v1";

  public KeysetBundle {
    previous = Map.copyOf(previous);
  }

  @Override
  public String toString() {
    return "KeysetBundle[" + workspaceId + " v" + version + ", redacted]";
  }

  public static KeysetBundle generate(UUID workspaceId) {
    return new KeysetBundle(
        workspaceId, 1, Ed25519KeyPair.generate(), X25519KeyPair.generate(), Map.of());
  }

  /** The next version: fresh keys, this version's encryption key kept among the previous ones. */
  public KeysetBundle next() {
    Map<Integer, X25519KeyPair> prev = new TreeMap<>(previous);
    prev.put(version, encryption);
    return new KeysetBundle(
        workspaceId, version + 1, Ed25519KeyPair.generate(), X25519KeyPair.generate(), prev);
  }

  public TrustModel.Keyset publicKeyset(Instant now) {
    return new TrustModel.Keyset(
        workspaceId, version, signing.publicKey(), encryption.publicKey(), now.toString());
  }

  /** The encryption key pair of {@code v} (this or an earlier version). */
  public X25519KeyPair encryptionKey(int v) {
    if (v == version) {
      return encryption;
    }
    X25519KeyPair k = previous.get(v);
    if (k == null) {
      throw new MalformedInputException("this keyset has no encryption key of version " + v);
    }
    return k;
  }

  /** True when the public halves are those of {@code k}. */
  public boolean matches(TrustModel.Keyset k) {
    return k.workspaceId().equals(workspaceId)
        && k.version() == version
        && k.signingKey().equals(signing.publicKey())
        && k.encryptionKey().equals(encryption.publicKey());
  }

  byte[] encode() {
    HexFormat hex = HexFormat.of();
    Map<String, Object> prev = new TreeMap<>();
    previous.forEach(
        (v, k) -> prev.put(String.valueOf(v), hex.formatHex(k.privateKey().exportPrivateBytes())));
    Map<String, Object> m = new TreeMap<>();
    m.put("format", FORMAT);
    m.put("workspace_id", workspaceId.toString());
    m.put("version", version);
    m.put("signing_private_key", hex.formatHex(signing.privateKey().exportPrivateBytes()));
    m.put("encryption_private_key", hex.formatHex(encryption.privateKey().exportPrivateBytes()));
    m.put("previous_encryption_private_keys", prev);
    return CanonicalJson.encode(m);
  }

  @SuppressWarnings("unchecked")
  static KeysetBundle decode(byte[] bytes) {
    HexFormat hex = HexFormat.of();
    try {
      if (!(CanonicalJson.parse(bytes) instanceof Map<?, ?> raw)) {
        throw new MalformedInputException("keyset bundle must be a JSON object");
      }
      Map<String, Object> m = (Map<String, Object>) raw;
      if (!FORMAT.equals(m.get("format"))) {
        throw new MalformedInputException("unknown keyset bundle format");
      }
      Map<Integer, X25519KeyPair> prev = new TreeMap<>();
      for (Map.Entry<String, Object> e :
          ((Map<String, Object>) m.get("previous_encryption_private_keys")).entrySet()) {
        prev.put(
            Integer.parseInt(e.getKey()),
            X25519KeyPair.fromPrivateKey(
                X25519PrivateKey.fromBytes(hex.parseHex((String) e.getValue()))));
      }
      return new KeysetBundle(
          UUID.fromString((String) m.get("workspace_id")),
          ((Number) m.get("version")).intValue(),
          Ed25519KeyPair.fromPrivateKey(
              Ed25519PrivateKey.fromBytes(hex.parseHex((String) m.get("signing_private_key")))),
          X25519KeyPair.fromPrivateKey(
              X25519PrivateKey.fromBytes(hex.parseHex((String) m.get("encryption_private_key")))),
          prev);
    } catch (ClassCastException | NullPointerException | IllegalArgumentException e) {
      throw new MalformedInputException("keyset bundle is malformed");
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  /** Seals this bundle to a device or kit key, bound to workspace, version and recipient. */
  public WorkspaceKeyEnvelope seal(
      P256PublicKey recipient, String recipientKind, UUID recipientId) {
    byte[] plain = encode();
    try {
      return WorkspaceKeyEnvelopes.seal(
          recipient,
          plain,
          TrustModel.envelopeAd(workspaceId, version, recipientKind, recipientId));
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
  }

  /**
   * Opens an envelope addressed to {@code recipient}; the bundle must be of {@code workspaceId} and
   * {@code version}.
   */
  public static KeysetBundle open(
      WorkspaceKeyEnvelope envelope,
      P256KeyPair recipient,
      UUID workspaceId,
      int version,
      String recipientKind,
      UUID recipientId) {
    KeysetBundle b =
        decode(
            WorkspaceKeyEnvelopes.open(
                envelope,
                recipient,
                TrustModel.envelopeAd(workspaceId, version, recipientKind, recipientId)));
    if (!b.workspaceId().equals(workspaceId) || b.version() != version) {
      throw new MalformedInputException(
          "the envelope holds a keyset of another workspace or version");
    }
    return b;
  }

  static WorkspaceKeyEnvelope envelopeFrom(io.vertx.core.json.JsonObject j) {
    if (j == null) {
      throw new MalformedInputException("envelope is missing");
    }
    return WorkspaceKeyEnvelope.fromJson(j.encode().getBytes(StandardCharsets.UTF_8));
  }

  static List<Integer> versions(KeysetBundle b) {
    return b.previous().keySet().stream().sorted().toList();
  }
}
