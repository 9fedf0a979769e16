package dev.umbra.client.tty;

import com.google.protobuf.ByteString;
import dev.umbra.client.tty.Handshake.RecipientDevice;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.sign.CanonicalJsonSignatures;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.proto.webtty.SignedMessage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fields of the signed WebTTY documents ({@link Handshake}): signing canonical JSON, and
 * reading it back strictly, so that every reader refuses the same malformed input the same way.
 */
final class SignedDocuments {
  private static final HexFormat HEX = HexFormat.of();

  private SignedDocuments() {}

  /** {@code recipient_devices} as the proof and the share request carry it. */
  static List<Object> recipientDevicesJson(List<RecipientDevice> devices) {
    List<Object> rd = new ArrayList<>();
    for (RecipientDevice d : devices) {
      Map<String, Object> dm = new LinkedHashMap<>();
      dm.put("credential", signedJson(d.credential()));
      dm.put("webtty_key", signedJson(d.webttyKey()));
      rd.add(dm);
    }
    return rd;
  }

  static List<RecipientDevice> recipientDevices(List<?> entries) {
    List<RecipientDevice> devices = new ArrayList<>();
    for (Object o : entries) {
      if (!(o instanceof Map<?, ?> em) || em.size() != 2) {
        throw new MalformedInputException(
            "recipient device must have exactly credential and webtty_key");
      }
      devices.add(
          new RecipientDevice(
              signedFrom(em.get("credential"), "recipient credential"),
              signedFrom(em.get("webtty_key"), "recipient webtty_key")));
    }
    return devices;
  }

  static Map<String, Object> signedJson(Signed s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("payload", s.payload());
    m.put("signature", HEX.formatHex(s.signature()));
    return m;
  }

  @SuppressWarnings("unchecked")
  static Signed signedFrom(Object o, String what) {
    if (!(o instanceof Map<?, ?> dm) || dm.size() != 2) {
      throw new MalformedInputException(
          "ClientProof " + what + " must have exactly payload and signature");
    }
    Map<String, Object> d = (Map<String, Object>) dm;
    return new Signed(str(d, "payload"), hex(d, "signature"));
  }

  static SignedMessage signed(Map<String, Object> json, Ed25519KeyPair key) {
    byte[] bytes = CanonicalJson.encode(json);
    return SignedMessage.newBuilder()
        .setCanonicalJson(ByteString.copyFrom(bytes))
        .setSignature(
            ByteString.copyFrom(CanonicalJsonSignatures.signEd25519(key.privateKey(), json)))
        .build();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> canonical(SignedMessage m) {
    byte[] bytes = m.getCanonicalJson().toByteArray();
    Object parsed = CanonicalJson.parse(bytes);
    if (!(parsed instanceof Map) || !Arrays.equals(CanonicalJson.encode(parsed), bytes)) {
      throw new MalformedInputException("signed WebTTY document is not canonical JSON");
    }
    return (Map<String, Object>) parsed;
  }

  static String str(Map<String, Object> m, String k) {
    if (!(m.get(k) instanceof String s)) {
      throw new MalformedInputException("signed WebTTY document lacks " + k);
    }
    return s;
  }

  static long num(Map<String, Object> m, String k) {
    if (!(m.get(k) instanceof Long l)) {
      throw new MalformedInputException("signed WebTTY document lacks " + k);
    }
    return l;
  }

  static byte[] hex(Map<String, Object> m, String k) {
    try {
      return HEX.parseHex(str(m, k));
    } catch (IllegalArgumentException e) {
      throw new MalformedInputException("signed WebTTY document has a bad " + k);
    }
  }
}
