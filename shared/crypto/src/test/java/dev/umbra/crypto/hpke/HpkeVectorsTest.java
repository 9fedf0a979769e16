package dev.umbra.crypto.hpke;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PrivateKey;
import dev.umbra.crypto.testing.Hex;
import dev.umbra.crypto.testing.Vectors;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HpkeVectorsTest {
  @Test
  void replaysRfc9180X25519Sha256Vectors() {
    JsonNode entries = Vectors.json("hpke/hpke_rfc9180_x25519_sha256.json");
    List<String> failures = new ArrayList<>();
    int entriesPassed = 0;
    int encryptions = 0;
    int exports = 0;
    for (JsonNode v : entries) {
      int mode = v.get("mode").asInt();
      String id = "mode " + mode + " aead " + v.get("aead_id").asInt();
      Hpke hpke = Hpke.x25519HkdfSha256(HpkeAead.fromId(v.get("aead_id").asInt()));
      X25519KeyPair eph = Hpke.deriveKeyPair(Hex.d(v.get("ikmE").asText()));
      X25519KeyPair rcpt = Hpke.deriveKeyPair(Hex.d(v.get("ikmR").asText()));
      int before = failures.size();
      // RFC 9180 §7.1.2: SerializePrivateKey clamps X25519 scalars, so compare the clamped vector
      // value
      check(
          failures,
          id + " skEm",
          Hex.e(eph.privateKey().exportPrivateBytes()),
          clamped(v.get("skEm").asText()));
      check(failures, id + " pkEm", eph.publicKey().toHex(), v.get("pkEm").asText());
      check(
          failures,
          id + " skRm",
          Hex.e(rcpt.privateKey().exportPrivateBytes()),
          clamped(v.get("skRm").asText()));
      check(failures, id + " pkRm", rcpt.publicKey().toHex(), v.get("pkRm").asText());
      X25519KeyPair recipient =
          X25519KeyPair.fromPrivateKey(X25519PrivateKey.fromBytes(Hex.d(v.get("skRm").asText())));
      byte[] info = Hex.d(v.get("info").asText());
      byte[] enc = Hex.d(v.get("enc").asText());
      HpkeContext sender = null;
      HpkeContext receiver;
      if (mode == 0) {
        sender = hpke.insecureSetupBaseSenderWithEphemeral(recipient.publicKey(), info, eph);
        check(failures, id + " enc", Hex.e(sender.enc()), v.get("enc").asText());
        receiver = hpke.setupBaseReceiver(enc, recipient, info);
      } else {
        byte[] psk = Hex.d(v.get("psk").asText());
        byte[] pskId = Hex.d(v.get("psk_id").asText());
        receiver = hpke.setupPskReceiver(enc, recipient, info, psk, pskId);
        // the sender side cannot pin an ephemeral key in PSK mode; check a fresh round trip instead
        HpkeContext fresh = hpke.setupPskSender(recipient.publicKey(), info, psk, pskId);
        HpkeContext back = hpke.setupPskReceiver(fresh.enc(), recipient, info, psk, pskId);
        check(
            failures,
            id + " psk round trip",
            Hex.e(back.open(new byte[0], fresh.seal(new byte[0], new byte[] {1}))),
            "01");
      }
      for (JsonNode e : v.get("encryptions")) {
        byte[] aad = Hex.d(e.get("aad").asText());
        byte[] pt = Hex.d(e.get("pt").asText());
        if (sender != null) {
          check(failures, id + " seal", Hex.e(sender.seal(aad, pt)), e.get("ct").asText());
        }
        check(
            failures,
            id + " open",
            Hex.e(receiver.open(aad, Hex.d(e.get("ct").asText()))),
            e.get("pt").asText());
        encryptions++;
      }
      for (JsonNode x : v.get("exports")) {
        byte[] ctx = Hex.d(x.get("exporter_context").asText());
        int len = x.get("L").asInt();
        check(
            failures,
            id + " export",
            Hex.e(receiver.export(ctx, len)),
            x.get("exported_value").asText());
        if (sender != null) {
          check(
              failures,
              id + " sender export",
              Hex.e(sender.export(ctx, len)),
              x.get("exported_value").asText());
        }
        exports++;
      }
      if (failures.size() == before) {
        entriesPassed++;
      }
    }
    assertThat(failures).isEmpty();
    assertThat(entriesPassed).isEqualTo(entries.size());
    Vectors.report(
        "hpke/hpke_rfc9180_x25519_sha256.json",
        entriesPassed,
        0,
        0,
        "skipped ("
            + encryptions
            + " encryptions and "
            + exports
            + " exports checked inside them)");
  }

  private static String clamped(String scalarHex) {
    byte[] k = Hex.d(scalarHex);
    k[0] &= (byte) 248;
    k[31] &= 127;
    k[31] |= 64;
    return Hex.e(k);
  }

  private static void check(List<String> failures, String what, String actual, String expected) {
    if (!actual.equals(expected)) {
      failures.add(what + ": expected " + expected + " got " + actual);
    }
  }
}
