package dev.umbra.client.tty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.proto.webtty.SignedMessage;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The daemon-signed resume document of an engine failover (docs/webtty.md "Engine failover"): what
 * the daemon signs verifies under its key and reads back the same; a document signed by anyone else
 * (a hostile engine), changed in one byte, truncated, oversized, with an unknown or a missing
 * member, or naming a controller without its input key is refused before anything in it is used.
 */
class ResumeDocumentTest {
  static final Ed25519KeyPair daemon = Ed25519KeyPair.generate();
  static final String KEY = "00112233445566778899aabbccddeeff";

  static ResumeDocument doc(String controller, String inputKey, long epoch) {
    return new ResumeDocument(
        UUID.randomUUID().toString(),
        "m-1",
        "01JABCDEFGHJKMNPQRSTVWXYZ0",
        epoch,
        controller,
        inputKey,
        4,
        KEY,
        0,
        9,
        1_700_000_000_000L);
  }

  @Test
  void whatTheDaemonSignsVerifiesUnderItsKeyAndReadsBackTheSame() {
    ResumeDocument d = doc(KEY, "ffeeddccbbaa99887766554433221100", 1);
    assertThat(ResumeDocument.verify(d.sign(daemon), daemon.publicKey())).isEqualTo(d);
    ResumeDocument nobody = doc(null, null, 2);
    assertThat(ResumeDocument.verify(nobody.sign(daemon), daemon.publicKey())).isEqualTo(nobody);
  }

  @Test
  void aDocumentSignedByAnotherKeyOrChangedInOneByteIsRefused() {
    SignedMessage forged = doc(KEY, KEY, 1).sign(Ed25519KeyPair.generate());
    assertThatThrownBy(() -> ResumeDocument.verify(forged, daemon.publicKey()))
        .isInstanceOf(AuthenticationFailedException.class);
    SignedMessage good = doc(KEY, KEY, 1).sign(daemon);
    byte[] json = good.getCanonicalJson().toByteArray();
    json[json.length - 3] ^= 1;
    SignedMessage changed = good.toBuilder().setCanonicalJson(ByteString.copyFrom(json)).build();
    assertThatThrownBy(() -> ResumeDocument.verify(changed, daemon.publicKey()))
        .isInstanceOf(AuthenticationFailedException.class);
  }

  @Test
  void truncatedOversizedOrMisshapenDocumentsAreRefusedEvenWhenSigned() {
    assertThatThrownBy(
            () ->
                ResumeDocument.verify(
                    SignedMessage.newBuilder()
                        .setCanonicalJson(ByteString.copyFrom(new byte[16 * 1024 + 1]))
                        .setSignature(ByteString.copyFrom(new byte[64]))
                        .build(),
                    daemon.publicKey()))
        .isInstanceOf(MalformedInputException.class);
    SignedMessage good = doc(KEY, KEY, 1).sign(daemon);
    assertThatThrownBy(
            () ->
                ResumeDocument.verify(
                    good.toBuilder().setSignature(good.getSignature().substring(0, 63)).build(),
                    daemon.publicKey()))
        .isInstanceOf(MalformedInputException.class);
    // a controller without its input key, an unknown member, epoch 0: signed, still refused
    for (String json :
        new String[] {
          good.getCanonicalJson().toStringUtf8().replace(",\"input_key_id\":\"" + KEY + "\"", ""),
          good.getCanonicalJson().toStringUtf8().replace("{", "{\"a\":1,"),
          good.getCanonicalJson().toStringUtf8().replace("\"epoch\":1", "\"epoch\":0"),
          "{\"type\":\"umbra-webtty-resume/v1\"}",
          "not json"
        }) {
      SignedMessage m = signRaw(json);
      assertThatThrownBy(() -> ResumeDocument.verify(m, daemon.publicKey()))
          .as(json)
          .isInstanceOf(MalformedInputException.class);
    }
  }

  @Test
  void thePublishedConformanceVectorsSignAndVerifyWithTheClientsOwnCode() throws Exception {
    io.vertx.core.json.JsonArray vectors =
        dev.umbra.client.testing.ConformanceVectors.of("webtty-resume-v1.json");
    assertThat(vectors).hasSize(2);
    java.util.HexFormat hex = java.util.HexFormat.of();
    for (Object o : vectors) {
      io.vertx.core.json.JsonObject v = (io.vertx.core.json.JsonObject) o;
      Ed25519KeyPair key =
          Ed25519KeyPair.fromPrivateKey(
              dev.umbra.crypto.keys.Ed25519PrivateKey.fromBytes(
                  hex.parseHex(v.getString("server_signing_private_key"))));
      assertThat(key.publicKey().toHex()).isEqualTo(v.getString("server_signing_key"));
      SignedMessage m =
          SignedMessage.newBuilder()
              .setCanonicalJson(ByteString.copyFromUtf8(v.getString("canonical_json")))
              .setSignature(ByteString.copyFrom(hex.parseHex(v.getString("signature"))))
              .build();
      ResumeDocument d = ResumeDocument.verify(m, key.publicKey());
      // the client's own encoder and signer make exactly these bytes
      assertThat(d.sign(key)).isEqualTo(m);
      assertThat(d.epoch()).isEqualTo(v.getJsonObject("document").getLong("epoch"));
      SignedMessage tampered =
          m.toBuilder()
              .setCanonicalJson(ByteString.copyFromUtf8(v.getString("tampered_canonical_json")))
              .build();
      assertThatThrownBy(() -> ResumeDocument.verify(tampered, key.publicKey()))
          .isInstanceOf(AuthenticationFailedException.class);
    }
  }

  static SignedMessage signRaw(String json) {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    return SignedMessage.newBuilder()
        .setCanonicalJson(ByteString.copyFrom(bytes))
        .setSignature(ByteString.copyFrom(daemon.privateKey().sign(bytes)))
        .build();
  }
}
