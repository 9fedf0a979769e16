package dev.umbra.client.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.umbra.client.testing.ConformanceVectors;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.Ed25519PrivateKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.sign.Signed;
import dev.umbra.proto.channel.ChannelReason;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The payload of Noise message 1 (docs/relay.md, "Message 1"): its exact bytes, the skew window the
 * daemon applies to its time, and the parser against hostile bytes (each refusal a typed channel
 * reason, never another exception).
 */
class HandshakePayloadTest {
  static final long NOW = 1_796_119_200_000L;
  static final long SKEW = HandshakePayload.SKEW.toMillis();
  static final HexFormat HEX = HexFormat.of();

  final Ed25519KeyPair device = Ed25519KeyPair.generate();
  final Signed credential =
      Signed.sign(
          java.util.Map.of("type", "umbra-device-credential/v1"),
          Ed25519KeyPair.generate().privateKey());
  final HandshakePayload.DeviceProof proof =
      new HandshakePayload.DeviceProof(credential, new byte[64]);

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static ChannelReason refusalOf(byte[] payload) {
    HandshakePayload.RefusedException e =
        catchThrowableOfType(
            HandshakePayload.RefusedException.class, () -> HandshakePayload.parse(payload));
    assertThat(e)
        .as("refused: " + (payload == null ? "null" : new String(payload, StandardCharsets.UTF_8)))
        .isNotNull();
    return e.reason();
  }

  static ChannelReason refusalAt(long time, long now) {
    HandshakePayload.RefusedException e =
        catchThrowableOfType(
            HandshakePayload.RefusedException.class,
            () -> HandshakePayload.read(HandshakePayload.at(time, Optional.empty()).encode(), now));
    return e == null ? null : e.reason();
  }

  @Test
  void withoutAProofThePayloadIsItsTypeAndTimeInCanonicalJson() throws Exception {
    byte[] bytes = HandshakePayload.at(NOW, Optional.empty()).encode();
    assertThat(new String(bytes, StandardCharsets.UTF_8))
        .isEqualTo("{\"time\":1796119200000,\"type\":\"umbra-relay-client-auth/v2\"}");
    assertThat(HandshakePayload.parse(bytes)).isEqualTo(HandshakePayload.at(NOW, Optional.empty()));
  }

  @Test
  void aProofReadsBackAsItWasWritten() throws Exception {
    HandshakePayload p = HandshakePayload.at(NOW, Optional.of(proof));
    assertThat(HandshakePayload.parse(p.encode())).isEqualTo(p);
  }

  @Test
  void aTimeWithinTheSkewEitherWayIsFreshAndBeyondItStaleOrFuture() {
    assertThat(refusalAt(NOW, NOW)).isNull();
    assertThat(refusalAt(NOW - SKEW, NOW)).isNull();
    assertThat(refusalAt(NOW + SKEW, NOW)).isNull();
    assertThat(refusalAt(NOW - SKEW - 1, NOW))
        .isEqualTo(ChannelReason.CHANNEL_REASON_HANDSHAKE_STALE);
    assertThat(refusalAt(NOW + SKEW + 1, NOW))
        .isEqualTo(ChannelReason.CHANNEL_REASON_HANDSHAKE_FUTURE);
    assertThat(refusalAt(0, NOW)).isEqualTo(ChannelReason.CHANNEL_REASON_HANDSHAKE_STALE);
    assertThat(refusalAt(-(1L << 53) + 1, NOW))
        .isEqualTo(ChannelReason.CHANNEL_REASON_HANDSHAKE_STALE);
    assertThat(refusalAt((1L << 53) - 1, NOW))
        .isEqualTo(ChannelReason.CHANNEL_REASON_HANDSHAKE_FUTURE);
  }

  @Test
  void aClientOlderThanTheDaemonIsRefusedAsCarryingNoTime() {
    String v1 =
        "{\"credential\":{\"payload\":\"{}\",\"signature\":\"00\"},\"static_key_signature\":\"00\","
            + "\"type\":\"umbra-relay-client-auth/v1\"}";
    for (String old :
        List.of(
            "",
            v1,
            "{\"type\":\"umbra-relay-client-auth/v1\"}",
            "{\"type\":\"umbra-relay-client-auth/v2\"}",
            "{\"time\":\"1796119200000\",\"type\":\"umbra-relay-client-auth/v2\"}",
            "{\"time\":true,\"type\":\"umbra-relay-client-auth/v2\"}")) {
      assertThat(refusalOf(utf8(old)))
          .as(old)
          .isEqualTo(ChannelReason.CHANNEL_REASON_HANDSHAKE_TIME_MISSING);
    }
    assertThat(refusalOf(null)).isEqualTo(ChannelReason.CHANNEL_REASON_HANDSHAKE_TIME_MISSING);
  }

  @Test
  void truncatedOversizedMalformedMistypedOrUnknownPayloadsAreMalformed() {
    String good = new String(HandshakePayload.at(NOW, Optional.of(proof)).encode());
    String plain = "{\"time\":1796119200000,\"type\":\"umbra-relay-client-auth/v2\"}";
    List<String> bad =
        new java.util.ArrayList<>(
            List.of(
                "x",
                "[]",
                "{}",
                "7",
                "\"umbra-relay-client-auth/v2\"",
                "[".repeat(5000),
                plain.replace("v2", "v3"),
                plain.replace("\"type\"", "\"Type\""),
                plain.replace("{", "{ "),
                "{\"type\":\"umbra-relay-client-auth/v2\",\"time\":1796119200000}",
                plain.replace("}", ",\"time\":1}"),
                plain.replace("1796119200000", "1796119200000.5"),
                plain.replace("1796119200000", "1e12"),
                plain.replace("1796119200000", "null"), // a null member is not canonical
                plain.replace("1796119200000", "9007199254740992"),
                plain.replace("{", "{\"role\":\"admin\","),
                good.replace("\"static_key_signature\":\"", "\"static_key_signature\":\"zz"),
                good.replace("\"static_key_signature\":\"" + "00".repeat(64), "\"x\":\"00"),
                good.replace(
                    "\"static_key_signature\":\"" + "00".repeat(64),
                    "\"static_key_signature\":\"00"),
                good.replace("\"credential\":{", "\"credential\":{\"extra\":1,"),
                "{\"credential\":\"x\",\"static_key_signature\":\"00\",\"time\":1,\"type\":\"umbra-relay-client-auth/v2\"}",
                "{\"credential\":{\"payload\":7,\"signature\":\"00\"},\"static_key_signature\":\"00\",\"time\":1,\"type\":\"umbra-relay-client-auth/v2\"}",
                "{\"credential\":{\"payload\":\"{}\",\"signature\":\"00\"},\"static_key_signature\":\"00\",\"time\":1,\"type\":\"umbra-relay-client-auth/v2\"}"));
    for (int cut = 1; cut < good.length(); cut += 37) {
      bad.add(good.substring(0, cut)); // truncated
    }
    for (String b : bad) {
      assertThat(refusalOf(utf8(b)))
          .as(b.length() > 60 ? b.substring(0, 60) : b)
          .isEqualTo(ChannelReason.CHANNEL_REASON_MALFORMED_MESSAGE);
    }
    byte[] oversized = new byte[HandshakePayload.MAX_BYTES + 1];
    Arrays.fill(oversized, (byte) ' ');
    assertThat(refusalOf(oversized)).isEqualTo(ChannelReason.CHANNEL_REASON_MALFORMED_MESSAGE);
    assertThat(refusalOf(Arrays.copyOf(utf8(plain), utf8(plain).length + 1)))
        .as("a trailing NUL")
        .isEqualTo(ChannelReason.CHANNEL_REASON_MALFORMED_MESSAGE);
  }

  /** The published vectors (shared/crypto/conformance/relay-client-auth.json), with this code. */
  @Test
  void thePublishedConformanceVectorsAreWhatTheClientWritesAndTheDaemonReads() throws Exception {
    JsonArray vectors = ConformanceVectors.of("relay-client-auth.json");
    assertThat(vectors).hasSize(2);
    for (Object o : vectors) {
      JsonObject v = (JsonObject) o;
      long time = v.getLong("time");
      Optional<HandshakePayload.DeviceProof> proof = Optional.empty();
      if (v.containsKey("credential")) {
        JsonObject c = v.getJsonObject("credential");
        Ed25519PrivateKey key =
            Ed25519PrivateKey.fromBytes(HEX.parseHex(v.getString("device_private_key")));
        HandshakePayload.DeviceProof made =
            ClientAuth.proof(
                new Signed(c.getString("payload"), HEX.parseHex(c.getString("signature"))),
                Ed25519KeyPair.fromPrivateKey(key),
                v.getString("workspace_id"),
                v.getString("target_id"),
                X25519PublicKey.fromHex(v.getString("noise_static_key")));
        assertThat(HEX.formatHex(made.staticKeySignature()))
            .isEqualTo(v.getString("static_key_signature"));
        proof = Optional.of(made);
      }
      HandshakePayload expected = HandshakePayload.at(time, proof);
      assertThat(new String(expected.encode(), StandardCharsets.UTF_8))
          .isEqualTo(v.getString("payload"));
      assertThat(HandshakePayload.read(utf8(v.getString("payload")), time)).isEqualTo(expected);
    }
  }
}
