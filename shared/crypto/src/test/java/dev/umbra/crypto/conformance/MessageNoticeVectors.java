package dev.umbra.crypto.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.secret.MessageNoticeMacs;
import dev.umbra.crypto.testing.Hex;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code message-notice.json} (docs/messaging.md, "Notices on the bus"): the key a control-plane
 * instance derives from the internal credential, the MAC input and MAC of a message notice, and the
 * bus body carrying it, so another implementation of the control plane can publish and accept
 * Umbra's notices.
 */
final class MessageNoticeVectors {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private MessageNoticeVectors() {}

  static List<Map<String, Object>> generate() {
    return List.of(
        vector(
            "message-notice-1",
            "0190a3c2-6f1e-7a4b-9c2d-3e4f5a6b7c8d",
            "0190a3c2-7000-7abc-8def-0123456789ab",
            48),
        vector(
            "message-notice-2",
            "11111111-2222-4333-8444-555555555555",
            "66666666-7777-4888-9999-aaaaaaaaaaaa",
            300));
  }

  private static Map<String, Object> vector(
      String label, String workspace, String recipient, int noticeBytes) {
    String credential = B64.encodeToString(ConformanceVectorGenerator.bytes(label + "/cred", 32));
    byte[] notice = ConformanceVectorGenerator.bytes(label + "/notice", noticeBytes);
    byte[] key = MessageNoticeMacs.key(credential);
    byte[] mac = MessageNoticeMacs.mac(key, workspace, recipient, notice);
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("internal_credential", credential);
    v.put("workspace_id", workspace);
    v.put("recipient_id", recipient);
    v.put("notice", Hex.e(notice));
    v.put("notice_key", Hex.e(key));
    v.put("mac_input", Hex.e(macInput(workspace, recipient, notice)));
    v.put("mac", Hex.e(mac));
    v.put("body", Hex.e(body(mac, notice)));
    return v;
  }

  /** Spelled out here (not taken from MessageNoticeMacs), so the file pins the documented form. */
  private static byte[] macInput(String workspace, String recipient, byte[] notice) {
    return Bytes.lengthPrefixed(
        Bytes.utf8(CryptoConstants.MESSAGE_NOTICE_DOMAIN),
        Bytes.utf8(workspace),
        Bytes.utf8(recipient),
        notice);
  }

  private static byte[] body(byte[] mac, byte[] notice) {
    return Bytes.concat(new byte[] {CryptoConstants.MESSAGE_NOTICE_VERSION}, mac, notice);
  }

  static List<String> replay(JsonNode v) {
    List<String> failures = new ArrayList<>();
    String workspace = v.get("workspace_id").asText();
    String recipient = v.get("recipient_id").asText();
    byte[] notice = Hex.d(v.get("notice").asText());
    byte[] key = MessageNoticeMacs.key(v.get("internal_credential").asText());
    byte[] mac = Hex.d(v.get("mac").asText());
    check(failures, "notice_key", Hex.e(key), v);
    check(failures, "mac_input", Hex.e(macInput(workspace, recipient, notice)), v);
    check(failures, "mac", Hex.e(MessageNoticeMacs.mac(key, workspace, recipient, notice)), v);
    check(failures, "body", Hex.e(body(mac, notice)), v);
    if (!MessageNoticeMacs.verify(key, workspace, recipient, notice, mac)) {
      failures.add(recipient + ": mac does not verify");
    }
    if (MessageNoticeMacs.verify(key, recipient, workspace, notice, mac)) {
      failures.add(recipient + ": mac verifies with workspace and recipient swapped");
    }
    return failures;
  }

  private static void check(List<String> failures, String field, String actual, JsonNode v) {
    if (!actual.equals(v.get(field).asText())) {
      failures.add(v.get("recipient_id").asText() + ": " + field + " differs");
    }
  }
}
