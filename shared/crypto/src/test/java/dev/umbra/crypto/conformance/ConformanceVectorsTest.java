package dev.umbra.crypto.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.Ed25519PrivateKey;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PrivateKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.messaging.DoubleRatchetVectors;
import dev.umbra.crypto.messaging.X3dhVectors;
import dev.umbra.crypto.noise.NoiseConformance;
import dev.umbra.crypto.testing.Hex;
import dev.umbra.crypto.webtty.InputKeyGrant;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyEnvelopeSuite;
import dev.umbra.crypto.webtty.KeyGrant;
import dev.umbra.crypto.webtty.KeyGrants;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.OutputKeyEpoch;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadCounters;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.crypto.webtty.PayloadSuite;
import dev.umbra.crypto.webtty.SealedPayload;
import dev.umbra.crypto.webtty.Stream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The published conformance vectors in {@code shared/crypto/conformance/}: the committed files must
 * equal a fresh generator run, and each file is replayed the way a third-party client would. Set
 * {@code -Dumbra.conformance.write=true} to (re)write the files.
 */
class ConformanceVectorsTest {
  private static final Path DIR = Path.of(System.getProperty("basedir", "."), "conformance");
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @BeforeAll
  static void writeWhenAsked() throws IOException {
    if (Boolean.getBoolean("umbra.conformance.write")) {
      ConformanceVectorGenerator.main(new String[] {DIR.toString()});
    }
  }

  private static JsonNode vectors(String file) throws IOException {
    return MAPPER.readTree(DIR.resolve(file).toFile()).get("vectors");
  }

  @Test
  void committedFilesEqualAFreshGeneratorRun() throws IOException {
    for (Map.Entry<String, String> e : ConformanceVectorGenerator.generate().entrySet()) {
      Path file = DIR.resolve(e.getKey());
      assertThat(file)
          .as("missing " + file + "; run the generator (see conformance/README.md)")
          .exists();
      assertThat(Files.readString(file))
          .as(e.getKey() + " is stale; regenerate it")
          .isEqualTo(e.getValue());
    }
  }

  @Test
  void replaysNoiseJson() throws IOException {
    List<String> failures = new ArrayList<>();
    for (JsonNode v : vectors("noise.json")) {
      failures.addAll(NoiseConformance.replay(v));
    }
    assertThat(failures).isEmpty();
  }

  @Test
  void replaysWebttyKeyIdJson() throws IOException {
    for (JsonNode v : vectors("webtty-key-id.json")) {
      assertThat(KeyId.of(X25519PublicKey.fromHex(v.get("public_key").asText())).toHex())
          .isEqualTo(v.get("key_id").asText());
    }
  }

  private static KeyContext keyContext(String canonicalText) {
    Map<?, ?> m = (Map<?, ?>) CanonicalJson.parse(canonicalText);
    List<KeyId> recipients = new ArrayList<>();
    for (Object hex : (List<?>) m.get("recipients")) {
      recipients.add(KeyId.fromHex((String) hex));
    }
    KeyContext ctx =
        new KeyContext(
            (String) m.get("workspace_id"),
            (String) m.get("server_id"),
            (String) m.get("session_id"),
            recipients);
    assertThat(new String(ctx.toCanonicalJson(), StandardCharsets.UTF_8)).isEqualTo(canonicalText);
    return ctx;
  }

  @Test
  void replaysWebttyGrantV2Json() throws IOException {
    for (JsonNode v : vectors("webtty-grant-v2.json")) {
      X25519KeyPair recipient =
          X25519KeyPair.fromPrivateKey(
              X25519PrivateKey.fromBytes(Hex.d(v.get("recipient_private_key").asText())));
      assertThat(recipient.publicKey().toHex()).isEqualTo(v.get("recipient_public_key").asText());
      assertThat(KeyId.of(recipient.publicKey()).toHex())
          .isEqualTo(v.get("recipient_key_id").asText());
      KeyContext ctx = keyContext(v.get("key_context").asText());
      KeyRole role = KeyRole.fromWireName(v.get("key_role").asText());
      PayloadKeyId keyId = PayloadKeyId.fromHex(v.get("payload_key_id").asText());
      KeyGrant grant =
          KeyGrant.fromWire(
              Hex.d(v.get("recipient_key_id").asText()),
              role.wireName(),
              v.get("payload_suite").asText(),
              v.get("key_envelope_suite").asText(),
              keyId.toBytes(),
              Hex.d(v.get("enc").asText()),
              Hex.d(v.get("ciphertext").asText()));
      assertThat(
              Hex.e(
                  KeyGrants.info(
                      role,
                      PayloadSuite.AES_256_GCM,
                      KeyEnvelopeSuite.HPKE_X25519_HKDF_SHA256_AES_256_GCM,
                      keyId,
                      ctx)))
          .isEqualTo(v.get("info").asText());
      assertThat(
              Hex.e(
                  KeyGrants.aad(
                      grant.recipientKeyId(),
                      role,
                      PayloadSuite.AES_256_GCM,
                      KeyEnvelopeSuite.HPKE_X25519_HKDF_SHA256_AES_256_GCM,
                      keyId,
                      ctx)))
          .isEqualTo(v.get("aad").asText());
      assertThat(Hex.e(KeyGrants.unwrap(grant, ctx, recipient).exportKeyBytes()))
          .isEqualTo(v.get("payload_key").asText());
      KeyRole other = role == KeyRole.OUTPUT ? KeyRole.INPUT : KeyRole.OUTPUT;
      assertThatThrownBy(
              () ->
                  KeyGrants.unwrap(
                      new KeyGrant(
                          grant.recipientKeyId(),
                          other,
                          grant.payloadSuite(),
                          grant.keyEnvelopeSuite(),
                          keyId,
                          grant.enc(),
                          grant.ciphertext()),
                      ctx,
                      recipient))
          .isInstanceOf(AuthenticationFailedException.class);
      KeyGrant again =
          KeyGrants.insecureWrapWithEphemeral(
              role,
              PayloadKey.fromBytes(Hex.d(v.get("payload_key").asText())),
              keyId,
              ctx,
              recipient.publicKey(),
              X25519KeyPair.fromPrivateKey(
                  X25519PrivateKey.fromBytes(Hex.d(v.get("ephemeral_private_key").asText()))));
      assertThat(Hex.e(again.enc())).isEqualTo(v.get("enc").asText());
      assertThat(Hex.e(again.ciphertext())).isEqualTo(v.get("ciphertext").asText());
    }
  }

  @Test
  void replaysWebttyPayloadV2Json() throws IOException {
    for (JsonNode v : vectors("webtty-payload-v2.json")) {
      KeyRole role = KeyRole.fromWireName(v.get("key_role").asText());
      PayloadKeyId keyId = PayloadKeyId.fromHex(v.get("payload_key_id").asText());
      PayloadCipher cipher =
          new PayloadCipher(
              role,
              PayloadKey.fromBytes(Hex.d(v.get("payload_key").asText())),
              keyId,
              keyContext(v.get("key_context").asText()));
      Stream stream = Stream.fromWireName(v.get("stream").asText());
      KeyId sender = KeyId.fromHex(v.get("sender_key_id").asText());
      long counter = Long.parseUnsignedLong(v.get("counter").asText());
      byte[] nonce = Hex.d(v.get("nonce").asText());
      byte[] plaintext = Hex.d(v.get("plaintext").asText());
      assertThat(Hex.e(cipher.aad(stream, sender, counter, nonce, plaintext.length)))
          .isEqualTo(v.get("aad").asText());
      SealedPayload sealed =
          SealedPayload.fromWire(
              v.get("stream").asText(),
              v.get("payload_suite").asText(),
              keyId.toBytes(),
              sender.toBytes(),
              counter,
              nonce,
              Hex.d(v.get("ciphertext").asText()),
              plaintext.length);
      assertThat(Hex.e(cipher.open(sealed))).isEqualTo(v.get("plaintext").asText());
      assertThat(
              Hex.e(
                  cipher
                      .insecureSealWithNonce(stream, sender, counter, nonce, plaintext)
                      .ciphertext()))
          .isEqualTo(v.get("ciphertext").asText());
      // the same bytes one counter later (a replay relabelled) do not open
      assertThatThrownBy(
              () ->
                  cipher.open(
                      new SealedPayload(
                          stream,
                          sealed.suite(),
                          keyId,
                          sender,
                          counter + 1,
                          nonce,
                          sealed.ciphertext(),
                          plaintext.length)))
          .isInstanceOf(AuthenticationFailedException.class);
    }
  }

  @Test
  void replaysWebttyCountersV2Json() throws IOException {
    for (JsonNode v : vectors("webtty-counters-v2.json")) {
      PayloadCounters r =
          "zero".equals(v.get("start").asText())
              ? PayloadCounters.fromZero()
              : PayloadCounters.fromFirstSeen();
      PayloadKeyId key = PayloadKeyId.generate();
      KeyId sender = KeyId.fromHex("00".repeat(16));
      List<String> verdicts = new ArrayList<>();
      for (JsonNode c : v.get("counters")) {
        PayloadCounters.Verdict verdict = r.observe(key, sender, c.asLong());
        verdicts.add(
            verdict.kind() == PayloadCounters.Kind.GAP
                ? "gap:" + verdict.missing()
                : verdict.kind().name().toLowerCase(java.util.Locale.ROOT));
      }
      List<String> expected = new ArrayList<>();
      v.get("verdicts").forEach(n -> expected.add(n.asText()));
      assertThat(verdicts).as(v.toString()).isEqualTo(expected);
    }
  }

  @Test
  void replaysWebttyInputKeyGrantV2Json() throws IOException {
    for (JsonNode v : vectors("webtty-input-key-grant-v2.json")) {
      Ed25519KeyPair server =
          Ed25519KeyPair.fromPrivateKey(
              Ed25519PrivateKey.fromBytes(Hex.d(v.get("server_signing_private_key").asText())));
      assertThat(server.publicKey().toHex()).isEqualTo(v.get("server_signing_key").asText());
      byte[] json = v.get("canonical_json").asText().getBytes(StandardCharsets.UTF_8);
      byte[] sig = Hex.d(v.get("signature").asText());
      InputKeyGrant g = InputKeyGrant.verify(json, sig, server.publicKey());
      assertThat(g.sign(server).signature()).isEqualTo(sig);
      X25519KeyPair controller =
          X25519KeyPair.fromPrivateKey(
              X25519PrivateKey.fromBytes(Hex.d(v.get("controller_private_key").asText())));
      assertThat(g.controllerKeyId()).isEqualTo(KeyId.of(controller.publicKey()));
      assertThat(
              Hex.e(
                  KeyGrants.unwrap(
                          g.grantFor(g.controllerKeyId()),
                          keyContext(v.get("key_context").asText()),
                          controller)
                      .exportKeyBytes()))
          .isEqualTo(v.get("input_key").asText());
      assertThatThrownBy(
              () -> InputKeyGrant.verify(json, sig, Ed25519KeyPair.generate().publicKey()))
          .isInstanceOf(AuthenticationFailedException.class);
    }
  }

  @Test
  void replaysWebttyOutputKeyEpochV2Json() throws IOException {
    for (JsonNode v : vectors("webtty-output-key-epoch-v2.json")) {
      Ed25519KeyPair server =
          Ed25519KeyPair.fromPrivateKey(
              Ed25519PrivateKey.fromBytes(Hex.d(v.get("server_signing_private_key").asText())));
      assertThat(server.publicKey().toHex()).isEqualTo(v.get("server_signing_key").asText());
      byte[] json = v.get("canonical_json").asText().getBytes(StandardCharsets.UTF_8);
      byte[] sig = Hex.d(v.get("signature").asText());
      KeyContext previous = keyContext(v.get("previous_key_context").asText());
      PayloadKeyId previousKeyId = PayloadKeyId.fromHex(v.get("previous_output_key_id").asText());
      long previousEpoch = v.get("previous_epoch").asLong();
      OutputKeyEpoch e =
          OutputKeyEpoch.verifyNext(
              json, sig, server.publicKey(), previous, previousEpoch, previousKeyId);
      assertThat(e.sign(server).signature()).isEqualTo(sig);
      assertThat(e.keyContext().toCanonicalJson())
          .isEqualTo(v.get("key_context").asText().getBytes(StandardCharsets.UTF_8));
      X25519KeyPair added =
          X25519KeyPair.fromPrivateKey(
              X25519PrivateKey.fromBytes(Hex.d(v.get("added_recipient_private_key").asText())));
      assertThat(
              Hex.e(
                  KeyGrants.unwrap(e.grantFor(KeyId.of(added.publicKey())), e.keyContext(), added)
                      .exportKeyBytes()))
          .isEqualTo(v.get("output_key").asText());
      assertThat(previous.hasRecipient(KeyId.of(added.publicKey()))).isFalse();
      assertThatThrownBy(
              () ->
                  OutputKeyEpoch.verifyNext(
                      json, sig, server.publicKey(), e.keyContext(), e.epoch(), e.outputKeyId()))
          .isInstanceOf(OutputKeyEpoch.NotNextException.class);
      assertThatThrownBy(
              () -> OutputKeyEpoch.verify(json, sig, Ed25519KeyPair.generate().publicKey()))
          .isInstanceOf(AuthenticationFailedException.class);
    }
  }

  @Test
  void replaysCanonicalJsonJson() throws IOException {
    List<String> failures = new ArrayList<>();
    for (JsonNode v : vectors("canonical-json.json")) {
      String input = v.get("input").asText();
      try {
        String canonical = CanonicalJson.canonicalize(input);
        if (!v.has("canonical") || !canonical.equals(v.get("canonical").asText())) {
          failures.add(input + " -> " + canonical);
        }
      } catch (MalformedInputException e) {
        if (!v.has("error")) {
          failures.add(input + " rejected: " + e.getMessage());
        }
      }
    }
    assertThat(failures).isEmpty();
  }

  @Test
  void replaysWebttyPolicyJson() throws IOException {
    int signed = 0;
    for (JsonNode v : vectors("webtty-policy.json")) {
      String payload = v.get("payload").asText();
      // the payload is the canonical JSON of the document, and of the policy type
      assertThat(CanonicalJson.canonicalize(MAPPER.writeValueAsString(v.get("document"))))
          .isEqualTo(payload);
      assertThat(v.get("document").get("type").asText())
          .isEqualTo(dev.umbra.crypto.CryptoConstants.WEBTTY_POLICY_TYPE);
      if (!v.has("signature")) {
        assertThat(v.get("document").has("signer_device_id"))
            .as("an unsigned document names no signer")
            .isFalse();
        continue;
      }
      signed++;
      dev.umbra.crypto.keys.Ed25519PrivateKey key =
          dev.umbra.crypto.keys.Ed25519PrivateKey.fromBytes(
              Hex.d(v.get("signer_private_key").asText()));
      assertThat(key.publicKey().toHex()).isEqualTo(v.get("signer_public_key").asText());
      byte[] sig = Hex.d(v.get("signature").asText());
      assertThat(Hex.e(key.sign(payload.getBytes(java.nio.charset.StandardCharsets.UTF_8))))
          .as("Ed25519 is deterministic")
          .isEqualTo(Hex.e(sig));
      dev.umbra.crypto.keys.Ed25519PublicKey pub =
          dev.umbra.crypto.keys.Ed25519PublicKey.fromHex(v.get("signer_public_key").asText());
      pub.verify(payload.getBytes(java.nio.charset.StandardCharsets.UTF_8), sig);
      byte[] tampered =
          v.get("tampered_payload").asText().getBytes(java.nio.charset.StandardCharsets.UTF_8);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> pub.verify(tampered, sig))
          .isInstanceOf(dev.umbra.crypto.CryptoException.class);
      // a reviewer's WebTTY key binding verifies under that device's own key and names that device
      for (JsonNode r : v.get("document").path("reviewers")) {
        JsonNode binding = r.get("webtty_key");
        dev.umbra.crypto.keys.Ed25519PublicKey.fromHex(v.get("reviewer_device_public_key").asText())
            .verify(
                binding.get("payload").asText().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                Hex.d(binding.get("signature").asText()));
        assertThat(MAPPER.readTree(binding.get("payload").asText()).get("device_id").asText())
            .isEqualTo(r.get("device_id").asText());
      }
    }
    assertThat(signed).isEqualTo(3);
  }

  @Test
  void replaysDeviceWebttyKeyJson() throws IOException {
    int n = 0;
    for (JsonNode v : vectors("device-webtty-key.json")) {
      n++;
      assertThat(v.get("document").get("type").asText()).isEqualTo("umbra-device-webtty-key/v1");
      replaySignedByDevice(v);
    }
    assertThat(n).isEqualTo(2);
  }

  @Test
  void replaysDeviceTrustJson() throws IOException {
    int n = 0;
    for (JsonNode v : vectors("device-trust.json")) {
      n++;
      assertThat(replaySignedByDevice(v))
          .isEqualTo(v.get("document").get("ed25519_public_key").asText());
      JsonNode code = v.get("code_document");
      assertThat(code.get("workspace_signing_key").asText())
          .isEqualTo(v.get("workspace_signing_key").asText());
      assertThat(CanonicalJson.canonicalize(MAPPER.writeValueAsString(code)))
          .isEqualTo(v.get("code_canonical").asText());
      assertThat(
              dev.umbra.crypto.sign.VerificationCodes.derive(
                  MAPPER.convertValue(code, java.util.Map.class)))
          .isEqualTo(v.get("code").asText());
    }
    assertThat(n).isEqualTo(2);
  }

  /**
   * A document signed by a device's own key: {@code payload} is the canonical form of {@code
   * document}, re-signing with {@code device_private_key} reproduces {@code signature}, which
   * verifies and does not verify {@code tampered_payload}. Returns the device's public key (hex).
   */
  private static String replaySignedByDevice(JsonNode v) throws IOException {
    String payload = v.get("payload").asText();
    assertThat(CanonicalJson.canonicalize(MAPPER.writeValueAsString(v.get("document"))))
        .isEqualTo(payload);
    dev.umbra.crypto.keys.Ed25519PrivateKey key =
        dev.umbra.crypto.keys.Ed25519PrivateKey.fromBytes(
            Hex.d(v.get("device_private_key").asText()));
    assertThat(key.publicKey().toHex()).isEqualTo(v.get("device_public_key").asText());
    byte[] sig = Hex.d(v.get("signature").asText());
    byte[] utf8 = payload.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertThat(Hex.e(key.sign(utf8))).as("Ed25519 is deterministic").isEqualTo(Hex.e(sig));
    dev.umbra.crypto.keys.Ed25519PublicKey pub = key.publicKey();
    pub.verify(utf8, sig);
    byte[] tampered =
        v.get("tampered_payload").asText().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> pub.verify(tampered, sig))
        .isInstanceOf(dev.umbra.crypto.CryptoException.class);
    return pub.toHex();
  }

  @Test
  void replaysX3dhJson() throws IOException {
    assertThat(replayAll("x3dh.json", 2, X3dhVectors::replay)).isEmpty();
  }

  @Test
  void replaysDoubleRatchetJson() throws IOException {
    assertThat(replayAll("double-ratchet.json", 4, DoubleRatchetVectors::replay)).isEmpty();
  }

  @Test
  void replaysWorkflowJson() throws IOException {
    assertThat(replayAll("workflow.json", 2, dev.umbra.crypto.workflow.WorkflowVectors::replay))
        .isEmpty();
  }

  @Test
  void replaysRelayMeshProofJson() throws IOException {
    assertThat(replayAll("relay-mesh-proof.json", 2, RelayMeshProofVectors::replay)).isEmpty();
  }

  @Test
  void replaysBusNoticeJson() throws IOException {
    assertThat(replayAll("bus-notice.json", 3, BusNoticeVectors::replay)).isEmpty();
  }

  @Test
  void replaysRelayClientAuthJson() throws IOException {
    assertThat(replayAll("relay-client-auth.json", 2, RelayClientAuthVectors::replay)).isEmpty();
  }

  /** Every failure of every vector of {@code file}, which must hold {@code count} vectors. */
  private static List<String> replayAll(
      String file, int count, java.util.function.Function<JsonNode, List<String>> replay)
      throws IOException {
    List<String> failures = new ArrayList<>();
    JsonNode all = vectors(file);
    assertThat(all).hasSize(count);
    for (JsonNode v : all) {
      failures.addAll(replay.apply(v));
    }
    return failures;
  }
}
