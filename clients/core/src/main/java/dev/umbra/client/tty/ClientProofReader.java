package dev.umbra.client.tty;

import static dev.umbra.client.tty.SignedDocuments.canonical;
import static dev.umbra.client.tty.SignedDocuments.hex;
import static dev.umbra.client.tty.SignedDocuments.num;
import static dev.umbra.client.tty.SignedDocuments.str;

import dev.umbra.client.tty.Handshake.ClientProof;
import dev.umbra.client.tty.Handshake.RecipientDevice;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyGrant;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.proto.webtty.SignedMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads a signed ClientProof ({@link Handshake#verifyProof}): the daemon's parser of the bytes a
 * client sends before anything else, so every member is checked for its type, size and range before
 * the proof is built and its signature checked by the key it names.
 */
final class ClientProofReader {
  private ClientProofReader() {}

  /**
   * Parses a ClientProof and checks its signature by the key it names (see {@link
   * Handshake#verify(SignedMessage)}).
   */
  @SuppressWarnings("unchecked")
  static ClientProof read(SignedMessage m) {
    Map<String, Object> j = canonical(m);
    if (!Handshake.PROOF_TYPE.equals(j.get("type"))) {
      throw new MalformedInputException("not a WebTTY ClientProof");
    }
    if (!(j.get("command") instanceof Map<?, ?> cmd)
        || !(j.get("key_context") instanceof Map<?, ?> kc)
        || !(j.get("grants") instanceof List<?> gl)
        || !(kc.get("recipients") instanceof List<?> rl)) {
      throw new MalformedInputException("ClientProof lacks command, key_context or grants");
    }
    Map<String, Object> c = (Map<String, Object>) cmd;
    KeyContext context = keyContext((Map<String, Object>) kc, rl);
    PayloadKeyId outputKeyId = PayloadKeyId.fromBytes(hex(j, "output_key_id"));
    PayloadKeyId inputKeyId = PayloadKeyId.fromBytes(hex(j, "input_key_id"));
    if (outputKeyId.equals(inputKeyId)) {
      throw new MalformedInputException("ClientProof output and input keys must differ");
    }
    List<KeyGrant> grants = grants(gl, outputKeyId, inputKeyId);
    long cols = num(c, "cols");
    long rows = num(c, "rows");
    if (cols < 1 || rows < 1 || cols > 10_000 || rows > 10_000) {
      throw new MalformedInputException("ClientProof terminal size out of range");
    }
    Signed credential = credential(j);
    List<RecipientDevice> devices = devices(j);
    ClientProof p =
        new ClientProof(
            str(j, "workspace_id"),
            str(j, "server_id"),
            str(j, "session_id"),
            hex(j, "server_nonce"),
            Ed25519PublicKey.fromBytes(hex(j, "client_signing_key")),
            X25519PublicKey.fromBytes(hex(j, "client_key")),
            (int) cols,
            (int) rows,
            str(c, "term"),
            context,
            outputKeyId,
            inputKeyId,
            grants,
            num(j, "not_before_ms"),
            num(j, "not_after_ms"),
            credential,
            devices);
    p.signingKey().verify(m.getCanonicalJson().toByteArray(), m.getSignature().toByteArray());
    return p;
  }

  private static KeyContext keyContext(Map<String, Object> k, List<?> recipientList) {
    List<KeyId> recipients = new ArrayList<>();
    for (Object r : recipientList) {
      recipients.add(KeyId.fromHex(String.valueOf(r)));
    }
    return new KeyContext(
        str(k, "workspace_id"), str(k, "server_id"), str(k, "session_id"), recipients);
  }

  /** The grants, each bound to the key id of its role. */
  @SuppressWarnings("unchecked")
  private static List<KeyGrant> grants(
      List<?> grantList, PayloadKeyId outputKeyId, PayloadKeyId inputKeyId) {
    List<KeyGrant> grants = new ArrayList<>();
    for (Object o : grantList) {
      if (!(o instanceof Map<?, ?> gm)) {
        throw new MalformedInputException("ClientProof grant is not an object");
      }
      Map<String, Object> g = (Map<String, Object>) gm;
      KeyRole role = KeyRole.fromWireName(str(g, "key_role"));
      grants.add(
          KeyGrant.fromWire(
              hex(g, "recipient_key_id"),
              role.wireName(),
              str(g, "payload_suite"),
              str(g, "key_envelope_suite"),
              (role == KeyRole.OUTPUT ? outputKeyId : inputKeyId).toBytes(),
              hex(g, "enc"),
              hex(g, "ciphertext")));
    }
    return grants;
  }

  /** The device credential (Workspace Protection), or null when the proof carries none. */
  @SuppressWarnings("unchecked")
  private static Signed credential(Map<String, Object> j) {
    if (!j.containsKey("device_credential")) {
      return null;
    }
    if (!(j.get("device_credential") instanceof Map<?, ?> dm)) {
      throw new MalformedInputException("ClientProof device_credential is not an object");
    }
    Map<String, Object> d = (Map<String, Object>) dm;
    if (d.size() != 2) {
      throw new MalformedInputException(
          "ClientProof device_credential must have exactly payload and signature");
    }
    return new Signed(str(d, "payload"), hex(d, "signature"));
  }

  private static List<RecipientDevice> devices(Map<String, Object> j) {
    if (!j.containsKey("recipient_devices")) {
      return List.of();
    }
    if (!(j.get("recipient_devices") instanceof List<?> rdl)
        || rdl.isEmpty()
        || rdl.size() > Handshake.MAX_RECIPIENT_DEVICES) {
      throw new MalformedInputException(
          "ClientProof recipient_devices must be a list of 1 to "
              + Handshake.MAX_RECIPIENT_DEVICES);
    }
    return SignedDocuments.recipientDevices(rdl);
  }
}
