package dev.umbra.client.tty;

import static dev.umbra.client.tty.SignedDocuments.canonical;
import static dev.umbra.client.tty.SignedDocuments.hex;
import static dev.umbra.client.tty.SignedDocuments.num;
import static dev.umbra.client.tty.SignedDocuments.recipientDevices;
import static dev.umbra.client.tty.SignedDocuments.recipientDevicesJson;
import static dev.umbra.client.tty.SignedDocuments.signed;
import static dev.umbra.client.tty.SignedDocuments.str;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyEnvelopeSuite;
import dev.umbra.crypto.webtty.KeyGrant;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.crypto.webtty.PayloadSuite;
import dev.umbra.proto.webtty.SignedMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The WebTTY endpoint proof (DESIGN.md §5, docs/webtty.md): a signed ServerHello from the server
 * and a signed ClientProof from the client, each the canonical JSON (DESIGN.md §7) of the fields
 * below, signed with Ed25519 over exactly those bytes. Verification re-canonicalizes the received
 * bytes and refuses anything that is not already canonical, then checks the signature with the key
 * the document names; whether that key is trusted is the caller's separate step.
 */
public final class Handshake {
  /**
   * v2 (payload format v2, split keys); a v1 hello or proof is refused as "not a
   * ServerHello/ClientProof".
   */
  public static final String HELLO_TYPE = "umbra-webtty-server-hello/v2";

  public static final String PROOF_TYPE = "umbra-webtty-client-proof/v2";

  /** Longest validity window a ClientProof may claim. */
  public static final Duration MAX_PROOF_WINDOW = Duration.ofSeconds(60);

  /** Clock difference tolerated at the start of a proof's window. */
  public static final Duration CLOCK_SKEW = Duration.ofSeconds(5);

  public static final int NONCE_BYTES = 32;
  private static final HexFormat HEX = HexFormat.of();

  private Handshake() {}

  /** What the server signs: identity, fresh nonce, suites, session context. */
  public record ServerHello(
      String workspaceId,
      String serverId,
      String sessionId,
      Ed25519PublicKey signingKey,
      X25519PublicKey agreementKey,
      byte[] nonce,
      long timeMs) {

    Map<String, Object> json() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("type", HELLO_TYPE);
      m.put("workspace_id", workspaceId);
      m.put("server_id", serverId);
      m.put("session_id", sessionId);
      m.put("server_signing_key", signingKey.toHex());
      m.put("server_key", agreementKey.toHex());
      m.put("nonce", HEX.formatHex(nonce));
      m.put("e2e", true);
      m.put("payload_suites", List.of(PayloadSuite.AES_256_GCM.wireName()));
      m.put(
          "key_envelope_suites",
          List.of(KeyEnvelopeSuite.HPKE_X25519_HKDF_SHA256_AES_256_GCM.wireName()));
      m.put("time_ms", timeMs);
      return m;
    }
  }

  /**
   * What the client signs: its keys, the command config, the key grants, the server's nonce, a
   * short window. v2: two keys, the output key (granted to every recipient) and the opener's input
   * key (epoch 0, granted to the server and the opener only); each grant names its role.
   */
  public record ClientProof(
      String workspaceId,
      String serverId,
      String sessionId,
      byte[] serverNonce,
      Ed25519PublicKey signingKey,
      X25519PublicKey agreementKey,
      int cols,
      int rows,
      String term,
      KeyContext keyContext,
      PayloadKeyId outputKeyId,
      PayloadKeyId inputKeyId,
      List<KeyGrant> grants,
      long notBeforeMs,
      long notAfterMs,
      Signed deviceCredential,
      List<RecipientDevice> recipientDevices) {

    public ClientProof {
      recipientDevices = List.copyOf(recipientDevices);
      if (recipientDevices.size() > MAX_RECIPIENT_DEVICES) {
        throw new MalformedInputException(
            "ClientProof names more than " + MAX_RECIPIENT_DEVICES + " recipient devices");
      }
    }

    /** A proof naming no recipient devices besides the opener. */
    public ClientProof(
        String workspaceId,
        String serverId,
        String sessionId,
        byte[] serverNonce,
        Ed25519PublicKey signingKey,
        X25519PublicKey agreementKey,
        int cols,
        int rows,
        String term,
        KeyContext keyContext,
        PayloadKeyId outputKeyId,
        PayloadKeyId inputKeyId,
        List<KeyGrant> grants,
        long notBeforeMs,
        long notAfterMs,
        Signed deviceCredential) {
      this(
          workspaceId,
          serverId,
          sessionId,
          serverNonce,
          signingKey,
          agreementKey,
          cols,
          rows,
          term,
          keyContext,
          outputKeyId,
          inputKeyId,
          grants,
          notBeforeMs,
          notAfterMs,
          deviceCredential,
          List.of());
    }

    /** A proof without a device credential (workspaces without Workspace Protection). */
    public ClientProof(
        String workspaceId,
        String serverId,
        String sessionId,
        byte[] serverNonce,
        Ed25519PublicKey signingKey,
        X25519PublicKey agreementKey,
        int cols,
        int rows,
        String term,
        KeyContext keyContext,
        PayloadKeyId outputKeyId,
        PayloadKeyId inputKeyId,
        List<KeyGrant> grants,
        long notBeforeMs,
        long notAfterMs) {
      this(
          workspaceId,
          serverId,
          sessionId,
          serverNonce,
          signingKey,
          agreementKey,
          cols,
          rows,
          term,
          keyContext,
          outputKeyId,
          inputKeyId,
          grants,
          notBeforeMs,
          notAfterMs,
          null);
    }

    Map<String, Object> json() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("type", PROOF_TYPE);
      m.put("workspace_id", workspaceId);
      m.put("server_id", serverId);
      m.put("session_id", sessionId);
      m.put("server_nonce", HEX.formatHex(serverNonce));
      m.put("client_signing_key", signingKey.toHex());
      m.put("client_key", agreementKey.toHex());
      m.put("command", Map.of("cols", (long) cols, "rows", (long) rows, "term", term));
      m.put("key_context", CanonicalJson.parse(keyContext.toCanonicalJson()));
      m.put("output_key_id", outputKeyId.toHex());
      m.put("input_key_id", inputKeyId.toHex());
      List<Object> gs = new ArrayList<>();
      for (KeyGrant g : grants) {
        Map<String, Object> gm = new LinkedHashMap<>();
        gm.put("recipient_key_id", g.recipientKeyId().toHex());
        gm.put("key_role", g.role().wireName());
        gm.put("payload_suite", g.payloadSuite().wireName());
        gm.put("key_envelope_suite", g.keyEnvelopeSuite().wireName());
        gm.put("enc", HEX.formatHex(g.enc()));
        gm.put("ciphertext", HEX.formatHex(g.ciphertext()));
        gs.add(gm);
      }
      m.put("grants", gs);
      m.put("not_before_ms", notBeforeMs);
      m.put("not_after_ms", notAfterMs);
      if (deviceCredential != null) {
        // the workspace-signed credential travels inside the signed document, so it is bound to
        // this proof (and to the key that signs it); absent for workspaces without a keyset
        Map<String, Object> dc = new LinkedHashMap<>();
        dc.put("payload", deviceCredential.payload());
        dc.put("signature", HEX.formatHex(deviceCredential.signature()));
        m.put("device_credential", dc);
      }
      if (!recipientDevices.isEmpty()) {
        // what vouches for each output-key recipient besides the server and the opener: the
        // daemon accepts a recipient only through one of these (docs/webtty.md, "Recipients")
        m.put("recipient_devices", recipientDevicesJson(recipientDevices));
      }
      return m;
    }

    /** The grant of the key with {@code role} addressed to {@code key}, or null. */
    public KeyGrant grantFor(X25519PublicKey key, KeyRole role) {
      return grantFor(KeyId.of(key), role);
    }

    public KeyGrant grantFor(KeyId id, KeyRole role) {
      for (KeyGrant g : grants) {
        if (g.recipientKeyId().equals(id) && g.role() == role) {
          return g;
        }
      }
      return null;
    }

    /** Who holds the opener's input key (epoch 0): the recipients of its input grants. */
    public List<KeyId> inputRecipients() {
      List<KeyId> out = new ArrayList<>();
      for (KeyGrant g : grants) {
        if (g.role() == KeyRole.INPUT) {
          out.add(g.recipientKeyId());
        }
      }
      return out;
    }
  }

  /** At most this many recipient devices in one proof (the engine bounds the proof's size too). */
  public static final int MAX_RECIPIENT_DEVICES = 64;

  /**
   * A trusted device an output key is granted to: its workspace-signed credential and its WebTTY
   * X25519 key signed by the device ({@link dev.umbra.client.trust.TrustModel.DeviceWebTtyKey}).
   */
  public record RecipientDevice(Signed credential, Signed webttyKey) {}

  public static SignedMessage sign(ServerHello hello, Ed25519KeyPair key) {
    return signed(hello.json(), key);
  }

  public static SignedMessage sign(ClientProof proof, Ed25519KeyPair key) {
    return signed(proof.json(), key);
  }

  /**
   * Parses a ServerHello and checks its signature by the key it names (throws {@link
   * AuthenticationFailedException} when it does not verify, UnsupportedSuiteException for suites
   * other than ours, MalformedInputException otherwise). Pinning is the caller's step.
   */
  public static ServerHello verify(SignedMessage m) {
    Map<String, Object> j = canonical(m);
    if (!HELLO_TYPE.equals(j.get("type"))) {
      throw new MalformedInputException("not a WebTTY ServerHello");
    }
    if (!Boolean.TRUE.equals(j.get("e2e"))) {
      throw new AuthenticationFailedException("server does not offer end-to-end encryption");
    }
    if (!(j.get("payload_suites") instanceof List<?> ps)
        || ps.size() != 1
        || !(j.get("key_envelope_suites") instanceof List<?> es)
        || es.size() != 1) {
      throw new MalformedInputException("ServerHello must name exactly one suite of each kind");
    }
    PayloadSuite.fromWireName(String.valueOf(ps.get(0)));
    KeyEnvelopeSuite.fromWireName(String.valueOf(es.get(0)));
    byte[] nonce = hex(j, "nonce");
    if (nonce.length != NONCE_BYTES) {
      throw new MalformedInputException("ServerHello nonce must be 32 bytes");
    }
    ServerHello h =
        new ServerHello(
            str(j, "workspace_id"),
            str(j, "server_id"),
            str(j, "session_id"),
            Ed25519PublicKey.fromBytes(hex(j, "server_signing_key")),
            X25519PublicKey.fromBytes(hex(j, "server_key")),
            nonce,
            num(j, "time_ms"));
    h.signingKey().verify(m.getCanonicalJson().toByteArray(), m.getSignature().toByteArray());
    return h;
  }

  public static ClientProof verifyProof(SignedMessage m) {
    return ClientProofReader.read(m);
  }

  /** {@code type} of the opener's signed request to add recipients to its live session. */
  public static final String SHARE_TYPE = "umbra-webtty-share/v2";

  /**
   * A request to add recipients to a live session (docs/webtty.md "Adding a recipient to a live
   * session"), signed by the key that signed the opener's ClientProof or, under Workspace
   * Protection, by the current controller's trusted device, which then names itself in {@code
   * sharer}. Canonical JSON: {@code {"not_after_ms","not_before_ms","recipient_devices":
   * [{"credential","webtty_key"}],"recipient_keys":[X25519 hex, sorted],"server_id","session_id",
   * "sharer"?:{"credential","webtty_key"},"type":"umbra-webtty-share/v2","workspace_id"}}, exactly
   * these members ({@code sharer} only when present). The new key context is the current one plus
   * {@code recipient_keys} (the daemon wraps the new output key to every recipient: it knows the
   * keys of the current ones it was shown, and the request may list them again); {@code
   * recipient_devices} vouch for the added ones under Workspace Protection (may be empty).
   */
  public record ShareRequest(
      String workspaceId,
      String serverId,
      String sessionId,
      List<X25519PublicKey> recipientKeys,
      List<RecipientDevice> recipientDevices,
      long notBeforeMs,
      long notAfterMs,
      RecipientDevice sharer) {
    private static final java.util.Set<String> MEMBERS =
        java.util.Set.of(
            "type",
            "workspace_id",
            "server_id",
            "session_id",
            "recipient_keys",
            "recipient_devices",
            "not_before_ms",
            "not_after_ms");

    public ShareRequest {
      if (recipientKeys.isEmpty()
          || recipientKeys.size() > MAX_RECIPIENT_DEVICES
          || recipientDevices.size() > MAX_RECIPIENT_DEVICES) {
        throw new MalformedInputException(
            "share request must name 1 to " + MAX_RECIPIENT_DEVICES + " recipient keys");
      }
      java.util.TreeMap<String, X25519PublicKey> sorted = new java.util.TreeMap<>();
      for (X25519PublicKey k : recipientKeys) {
        sorted.put(k.toHex(), k);
      }
      if (sorted.size() != recipientKeys.size()) {
        throw new MalformedInputException("share request names a recipient key twice");
      }
      recipientKeys = List.copyOf(sorted.values());
      recipientDevices = List.copyOf(recipientDevices);
    }

    /** A request signed by the opener's key (no {@code sharer}). */
    public ShareRequest(
        String workspaceId,
        String serverId,
        String sessionId,
        List<X25519PublicKey> recipientKeys,
        List<RecipientDevice> recipientDevices,
        long notBeforeMs,
        long notAfterMs) {
      this(
          workspaceId,
          serverId,
          sessionId,
          recipientKeys,
          recipientDevices,
          notBeforeMs,
          notAfterMs,
          null);
    }

    Map<String, Object> json() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("type", SHARE_TYPE);
      m.put("workspace_id", workspaceId);
      m.put("server_id", serverId);
      m.put("session_id", sessionId);
      List<Object> keys = new ArrayList<>();
      for (X25519PublicKey k : recipientKeys) {
        keys.add(k.toHex());
      }
      m.put("recipient_keys", keys);
      m.put("recipient_devices", recipientDevicesJson(recipientDevices));
      if (sharer != null) {
        m.put("sharer", recipientDevicesJson(List.of(sharer)).get(0));
      }
      m.put("not_before_ms", notBeforeMs);
      m.put("not_after_ms", notAfterMs);
      return m;
    }
  }

  /**
   * The {@code sharer} a share request names (null when it names none), read before its signature
   * is checked so that the daemon can find the key to check it with: the controller's device
   * credential and WebTTY key binding, which the daemon verifies under its pin first. Bounded and
   * canonical like {@link #verifyShare}.
   */
  public static RecipientDevice shareSharer(SignedMessage m) {
    if (m.getCanonicalJson().size() > 16 * 1024 || m.getSignature().size() != 64) {
      throw new MalformedInputException(
          "share request is larger than 16 KiB or its signature is not 64 bytes");
    }
    Object sharer = canonical(m).get("sharer");
    return sharer == null ? null : recipientDevices(List.of(sharer)).get(0);
  }

  public static SignedMessage sign(ShareRequest request, Ed25519KeyPair key) {
    return signed(request.json(), key);
  }

  /**
   * Verifies a share request's signature with {@code openerKey} (the key that signed the session's
   * ClientProof, or the key of the controller's device its {@code sharer} names) before reading
   * anything of it, then its shape: canonical, exactly the members above
   * (AuthenticationFailedException / MalformedInputException). At most 16 KiB (the engine's bound
   * of a signed document).
   */
  @SuppressWarnings("unchecked")
  public static ShareRequest verifyShare(SignedMessage m, Ed25519PublicKey openerKey) {
    if (m.getCanonicalJson().size() > 16 * 1024 || m.getSignature().size() != 64) {
      throw new MalformedInputException(
          "share request is larger than 16 KiB or its signature is not 64 bytes");
    }
    openerKey.verify(m.getCanonicalJson().toByteArray(), m.getSignature().toByteArray());
    Map<String, Object> j = canonical(m);
    java.util.Set<String> members = new java.util.HashSet<>(j.keySet());
    boolean hasSharer = members.remove("sharer");
    if (!members.equals(ShareRequest.MEMBERS) || !SHARE_TYPE.equals(j.get("type"))) {
      throw new MalformedInputException("not a WebTTY share request");
    }
    if (!(j.get("recipient_keys") instanceof List<?> kl)
        || !(j.get("recipient_devices") instanceof List<?> dl)
        || kl.size() > MAX_RECIPIENT_DEVICES
        || dl.size() > MAX_RECIPIENT_DEVICES) {
      throw new MalformedInputException("share request lacks recipient_keys or recipient_devices");
    }
    List<X25519PublicKey> keys = new ArrayList<>();
    for (Object o : kl) {
      try {
        keys.add(X25519PublicKey.fromBytes(HEX.parseHex(String.valueOf(o))));
      } catch (IllegalArgumentException e) {
        throw new MalformedInputException("share request has a bad recipient key");
      }
    }
    List<RecipientDevice> devices = new ArrayList<>();
    devices.addAll(recipientDevices(dl));
    ShareRequest r =
        new ShareRequest(
            str(j, "workspace_id"),
            str(j, "server_id"),
            str(j, "session_id"),
            keys,
            devices,
            num(j, "not_before_ms"),
            num(j, "not_after_ms"),
            hasSharer ? recipientDevices(List.of(j.get("sharer"))).get(0) : null);
    if (!Arrays.equals(CanonicalJson.encode(r.json()), m.getCanonicalJson().toByteArray())) {
      throw new MalformedInputException(
          "share request recipient keys are not sorted lowercase hex");
    }
    return r;
  }
}
