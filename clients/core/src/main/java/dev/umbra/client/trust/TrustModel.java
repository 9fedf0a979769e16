package dev.umbra.client.trust;

import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.P256PublicKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.crypto.sign.TrustPayloadTypes;
import dev.umbra.crypto.sign.VerificationCodes;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The signed payloads of Workspace Protection (docs/device-trust.md), every one canonical JSON with
 * a {@code type} that names it, so a signature over one kind can never pass as another (the type
 * names are {@link TrustPayloadTypes}, shared with the control plane).
 */
public final class TrustModel {
  public static final String KEYSET = TrustPayloadTypes.KEYSET;
  public static final String DEVICE_REQUEST = TrustPayloadTypes.DEVICE_REQUEST;
  public static final String DEVICE_CREDENTIAL = TrustPayloadTypes.DEVICE_CREDENTIAL;
  public static final String DEVICE_REVOCATION = TrustPayloadTypes.DEVICE_REVOCATION;
  public static final String DEVICE_KEYS = TrustPayloadTypes.DEVICE_KEYS;
  public static final String DEVICE_WEBTTY_KEY = TrustPayloadTypes.DEVICE_WEBTTY_KEY;
  public static final String RECOVERY_KIT = TrustPayloadTypes.RECOVERY_KIT;
  public static final String BUNDLE_ENVELOPE = TrustPayloadTypes.BUNDLE_ENVELOPE;

  private TrustModel() {}

  /**
   * The public half of keyset {@code version}: signing (Ed25519) and encryption (X25519, for HPKE)
   * keys.
   */
  public record Keyset(
      UUID workspaceId,
      int version,
      Ed25519PublicKey signingKey,
      X25519PublicKey encryptionKey,
      String createdAt) {
    public Map<String, Object> fields() {
      Map<String, Object> m = new TreeMap<>();
      m.put("type", KEYSET);
      m.put("workspace_id", workspaceId.toString());
      m.put("version", version);
      m.put("signing_public_key", signingKey.toHex());
      m.put("encryption_public_key", encryptionKey.toHex());
      m.put("created_at", createdAt);
      return m;
    }

    public static Keyset of(Signed s) {
      Map<String, Object> f = typed(s, KEYSET);
      return new Keyset(
          uuid(f, "workspace_id"),
          versionOf(f),
          Ed25519PublicKey.fromHex(str(f, "signing_public_key")),
          X25519PublicKey.fromHex(str(f, "encryption_public_key")),
          str(f, "created_at"));
    }
  }

  /**
   * A device's identity: Ed25519 for signatures and proofs, P-256 for the keyset envelope it
   * receives.
   */
  public record DeviceKeys(Ed25519PublicKey signingKey, P256PublicKey envelopeKey) {}

  /** What a device sends when it asks to be trusted, signed by its own Ed25519 key. */
  public record Request(
      UUID workspaceId,
      UUID deviceId,
      DeviceKeys keys,
      String name,
      String kind,
      long timestampMs) {
    public Map<String, Object> fields() {
      Map<String, Object> m = new TreeMap<>();
      m.put("type", DEVICE_REQUEST);
      m.put("workspace_id", workspaceId.toString());
      m.put("device_id", deviceId.toString());
      m.put("ed25519_public_key", keys.signingKey().toHex());
      m.put("p256_public_key", keys.envelopeKey().toHex());
      m.put("name", name);
      m.put("kind", kind);
      m.put("timestamp_ms", timestampMs);
      return m;
    }

    /** Parses and checks the self-signature. */
    public static Request of(Signed s) {
      Map<String, Object> f = typed(s, DEVICE_REQUEST);
      Request r =
          new Request(
              uuid(f, "workspace_id"),
              uuid(f, "device_id"),
              new DeviceKeys(
                  Ed25519PublicKey.fromHex(str(f, "ed25519_public_key")),
                  P256PublicKey.fromHex(str(f, "p256_public_key"))),
              str(f, "name"),
              str(f, "kind"),
              num(f, "timestamp_ms"));
      s.verify(r.keys().signingKey());
      return r;
    }
  }

  /** The credential the workspace signing key gives a trusted device. */
  public record Credential(
      UUID workspaceId,
      UUID deviceId,
      int keysetVersion,
      DeviceKeys keys,
      String name,
      String kind,
      String issuedAt) {
    public Map<String, Object> fields() {
      Map<String, Object> m = new TreeMap<>();
      m.put("type", DEVICE_CREDENTIAL);
      m.put("workspace_id", workspaceId.toString());
      m.put("device_id", deviceId.toString());
      m.put("keyset_version", keysetVersion);
      m.put("ed25519_public_key", keys.signingKey().toHex());
      m.put("p256_public_key", keys.envelopeKey().toHex());
      m.put("name", name);
      m.put("kind", kind);
      m.put("issued_at", issuedAt);
      return m;
    }

    /** Parses (does not verify: see {@link DeviceTrust}). */
    public static Credential of(Signed s) {
      Map<String, Object> f = typed(s, DEVICE_CREDENTIAL);
      Object v = f.get("keyset_version");
      if (!(v instanceof Number n) || n.longValue() < 1 || n.longValue() > Integer.MAX_VALUE) {
        throw new MalformedInputException("keyset_version must be a positive integer");
      }
      return new Credential(
          uuid(f, "workspace_id"),
          uuid(f, "device_id"),
          n.intValue(),
          new DeviceKeys(
              Ed25519PublicKey.fromHex(str(f, "ed25519_public_key")),
              P256PublicKey.fromHex(str(f, "p256_public_key"))),
          str(f, "name"),
          str(f, "kind"),
          str(f, "issued_at"));
    }
  }

  /** A revocation, signed with the workspace signing key. */
  public record Revocation(UUID workspaceId, UUID deviceId, String revokedAt) {
    public Map<String, Object> fields() {
      Map<String, Object> m = new TreeMap<>();
      m.put("type", DEVICE_REVOCATION);
      m.put("workspace_id", workspaceId.toString());
      m.put("device_id", deviceId.toString());
      m.put("revoked_at", revokedAt);
      return m;
    }

    public static Revocation of(Signed s) {
      Map<String, Object> f = typed(s, DEVICE_REVOCATION);
      return new Revocation(uuid(f, "workspace_id"), uuid(f, "device_id"), str(f, "revoked_at"));
    }
  }

  /**
   * A Recovery Kit's public key, signed with the workspace signing key so a rotation can re-wrap
   * for it.
   */
  public record RecoveryKit(
      UUID workspaceId, UUID kitId, P256PublicKey publicKey, String createdAt) {
    public Map<String, Object> fields() {
      Map<String, Object> m = new TreeMap<>();
      m.put("type", RECOVERY_KIT);
      m.put("workspace_id", workspaceId.toString());
      m.put("kit_id", kitId.toString());
      m.put("p256_public_key", publicKey.toHex());
      m.put("created_at", createdAt);
      return m;
    }

    public static RecoveryKit of(Signed s) {
      Map<String, Object> f = typed(s, RECOVERY_KIT);
      return new RecoveryKit(
          uuid(f, "workspace_id"),
          uuid(f, "kit_id"),
          P256PublicKey.fromHex(str(f, "p256_public_key")),
          str(f, "created_at"));
    }
  }

  /**
   * A trusted device's WebTTY X25519 key (the key session output keys are granted to), signed by
   * the device's own Ed25519 key (docs/device-trust.md, "WebTTY keys"). The credential does not
   * name an X25519 key, so this is the link: workspace key → credential → device Ed25519 key → this
   * binding. The control plane stores and serves it but cannot make one: it holds no device key.
   * Only a binding whose signer's credential verifies under the pinned keyset counts.
   */
  public record DeviceWebTtyKey(
      UUID workspaceId, UUID deviceId, X25519PublicKey key, String issuedAt) {
    public Map<String, Object> fields() {
      Map<String, Object> m = new TreeMap<>();
      m.put("type", DEVICE_WEBTTY_KEY);
      m.put("workspace_id", workspaceId.toString());
      m.put("device_id", deviceId.toString());
      m.put("x25519_public_key", key.toHex());
      m.put("issued_at", issuedAt);
      return m;
    }

    /** Parses (does not verify: see {@link #verified}). */
    public static DeviceWebTtyKey of(Signed s) {
      Map<String, Object> f = typed(s, DEVICE_WEBTTY_KEY);
      if (f.size() != 5) {
        throw new MalformedInputException(
            "a "
                + DEVICE_WEBTTY_KEY
                + " payload has exactly type, workspace_id, device_id, x25519_public_key, issued_at");
      }
      return new DeviceWebTtyKey(
          uuid(f, "workspace_id"),
          uuid(f, "device_id"),
          X25519PublicKey.fromHex(str(f, "x25519_public_key")),
          str(f, "issued_at"));
    }

    /**
     * The key of {@code binding} when the device {@code credential} names signed it for the same
     * workspace and device; the caller has checked {@code credential} itself against its pinned
     * keyset. Throws a {@link dev.umbra.crypto.CryptoException} otherwise.
     */
    public static DeviceWebTtyKey verified(Signed binding, Credential credential) {
      DeviceWebTtyKey k = of(binding);
      if (!k.workspaceId().equals(credential.workspaceId())
          || !k.deviceId().equals(credential.deviceId())) {
        throw new MalformedInputException(
            "the WebTTY key binding names another workspace or device than its credential");
      }
      binding.verify(credential.keys().signingKey());
      return k;
    }
  }

  /**
   * The payload both sides turn into the verification code: the workspace, the device's public keys
   * and the workspace's root signing key (version 1), so the code also proves to the new device
   * that it was shown the same workspace key the approver holds.
   */
  public static Map<String, Object> codePayload(
      UUID workspaceId, DeviceKeys keys, Ed25519PublicKey workspaceRootKey) {
    Map<String, Object> m = new TreeMap<>();
    m.put("type", DEVICE_KEYS);
    m.put("workspace_id", workspaceId.toString());
    m.put("workspace_signing_key", workspaceRootKey.toHex());
    m.put("ed25519_public_key", keys.signingKey().toHex());
    m.put("p256_public_key", keys.envelopeKey().toHex());
    return m;
  }

  /** The 80-bit verification code of a device (VerificationCodes, docs/crypto.md). */
  public static String verificationCode(
      UUID workspaceId, DeviceKeys keys, Ed25519PublicKey workspaceRootKey) {
    return VerificationCodes.derive(codePayload(workspaceId, keys, workspaceRootKey));
  }

  /**
   * The code a machine shows for its binding keys (`umbra vault machine-code` on the machine),
   * which an admin compares before granting it vault access: same 80-bit scheme as device codes.
   */
  public static String machineCode(
      UUID workspaceId, UUID machineId, X25519PublicKey x25519, Ed25519PublicKey ed25519) {
    return VerificationCodes.derive(machineCodePayload(workspaceId, machineId, x25519, ed25519));
  }

  public static Map<String, Object> machineCodePayload(
      UUID workspaceId, UUID machineId, X25519PublicKey x25519, Ed25519PublicKey ed25519) {
    Map<String, Object> m = new TreeMap<>();
    m.put("type", "umbra-machine-keys/v1");
    m.put("workspace_id", workspaceId.toString());
    m.put("machine_id", machineId.toString());
    m.put("x25519_public_key", x25519.toHex());
    m.put("ed25519_public_key", ed25519.toHex());
    return m;
  }

  /** Associated data of a keyset envelope: binds workspace, keyset version and recipient. */
  public static byte[] envelopeAd(
      UUID workspaceId, int version, String recipientKind, UUID recipientId) {
    Map<String, Object> m = new TreeMap<>();
    m.put("type", BUNDLE_ENVELOPE);
    m.put("workspace_id", workspaceId.toString());
    m.put("keyset_version", version);
    m.put("recipient_kind", recipientKind);
    m.put("recipient_id", recipientId.toString());
    return CanonicalJson.encode(m);
  }

  static Map<String, Object> typed(Signed s, String type) {
    Map<String, Object> f = s.fields();
    if (!type.equals(f.get("type"))) {
      throw new MalformedInputException("expected a " + type + " payload");
    }
    return f;
  }

  static String str(Map<String, Object> f, String k) {
    if (!(f.get(k) instanceof String s) || s.isEmpty() || s.length() > 256) {
      throw new MalformedInputException(k + " must be a non-empty string");
    }
    return s;
  }

  static long num(Map<String, Object> f, String k) {
    if (!(f.get(k) instanceof Number n)) {
      throw new MalformedInputException(k + " must be an integer");
    }
    return n.longValue();
  }

  static int versionOf(Map<String, Object> f) {
    long v = num(f, "version");
    if (v < 1 || v > Integer.MAX_VALUE) {
      throw new MalformedInputException("version must be a positive integer");
    }
    return (int) v;
  }

  static UUID uuid(Map<String, Object> f, String k) {
    String s = str(f, k);
    try {
      if (s.length() != 36) {
        throw new IllegalArgumentException();
      }
      return UUID.fromString(s);
    } catch (IllegalArgumentException e) {
      throw new MalformedInputException(k + " must be a UUID");
    }
  }
}
