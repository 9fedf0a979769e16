package dev.umbra.crypto.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.internal.Bytes;
import dev.umbra.crypto.secret.BusNoticeMacs;
import dev.umbra.crypto.testing.Hex;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code bus-notice.json} (docs/webtty.md, "Takeover notices on the bus"; docs/messaging.md,
 * "Notices on the bus"): per message type the key an instance derives from the internal credential,
 * the MAC input and MAC of a sealed notice, and the bus body carrying it, so another implementation
 * can publish and accept Umbra's takeovers and message notices.
 */
final class BusNoticeVectors {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private BusNoticeVectors() {}

  static List<Map<String, Object>> generate() {
    return List.of(
        vector(
            "bus-notice-1",
            CryptoConstants.WEBTTY_TAKEOVER_DOMAIN,
            "umbra.webtty.takeovers",
            1_780_000_000_123L,
            60),
        vector(
            "bus-notice-2",
            CryptoConstants.RELAY_TAKEOVER_DOMAIN,
            "umbra.relay.routes",
            1_780_000_031_999L,
            120),
        // a message notice (docs/messaging.md, "Notices on the bus") on a recipient's channel
        vector(
            "bus-notice-3",
            CryptoConstants.MESSAGE_NOTICE_DOMAIN,
            "umbra.msg.r.11111111-2222-4333-8444-555555555555.66666666-7777-4888-9999-aaaaaaaaaaaa",
            1_780_000_045_678L,
            200));
  }

  private static Map<String, Object> vector(
      String label, String domain, String channel, long unixMillis, int noticeBytes) {
    String credential = B64.encodeToString(ConformanceVectorGenerator.bytes(label + "/cred", 32));
    byte[] notice = ConformanceVectorGenerator.bytes(label + "/notice", noticeBytes);
    byte[] key = BusNoticeMacs.key(credential, domain);
    byte[] mac = BusNoticeMacs.mac(key, domain, channel, unixMillis, notice);
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("internal_credential", credential);
    v.put("domain", domain);
    v.put("channel", channel);
    v.put("unix_millis", unixMillis);
    v.put("notice", Hex.e(notice));
    v.put("notice_key", Hex.e(key));
    v.put("mac_input", Hex.e(macInput(domain, channel, unixMillis, notice)));
    v.put("mac", Hex.e(mac));
    v.put("body", Hex.e(body(unixMillis, mac, notice)));
    return v;
  }

  /** Spelled out here (not taken from BusNoticeMacs), so the file pins the documented form. */
  private static byte[] macInput(String domain, String channel, long unixMillis, byte[] notice) {
    return Bytes.concat(
        Bytes.lengthPrefixed(Bytes.utf8(domain), Bytes.utf8(channel)),
        Bytes.u64be(unixMillis),
        Bytes.lengthPrefixed(notice));
  }

  private static byte[] body(long unixMillis, byte[] mac, byte[] notice) {
    return Bytes.concat(
        new byte[] {CryptoConstants.BUS_SEAL_VERSION}, Bytes.u64be(unixMillis), mac, notice);
  }

  static List<String> replay(JsonNode v) {
    List<String> failures = new ArrayList<>();
    String domain = v.get("domain").asText();
    String channel = v.get("channel").asText();
    long at = v.get("unix_millis").asLong();
    byte[] notice = Hex.d(v.get("notice").asText());
    byte[] key = BusNoticeMacs.key(v.get("internal_credential").asText(), domain);
    byte[] mac = Hex.d(v.get("mac").asText());
    check(failures, "notice_key", Hex.e(key), v);
    check(failures, "mac_input", Hex.e(macInput(domain, channel, at, notice)), v);
    check(failures, "mac", Hex.e(BusNoticeMacs.mac(key, domain, channel, at, notice)), v);
    check(failures, "body", Hex.e(body(at, mac, notice)), v);
    if (!BusNoticeMacs.verify(key, domain, channel, at, notice, mac)) {
      failures.add(domain + ": mac does not verify");
    }
    if (BusNoticeMacs.verify(key, domain, channel, at + 1, notice, mac)) {
      failures.add(domain + ": mac verifies at another time");
    }
    if (BusNoticeMacs.verify(key, domain, channel + "x", at, notice, mac)) {
      failures.add(domain + ": mac verifies on another channel");
    }
    return failures;
  }

  private static void check(List<String> failures, String field, String actual, JsonNode v) {
    if (!actual.equals(v.get(field).asText())) {
      failures.add(v.get("domain").asText() + ": " + field + " differs");
    }
  }
}
