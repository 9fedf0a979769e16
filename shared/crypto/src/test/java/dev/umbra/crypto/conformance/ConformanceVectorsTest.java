package dev.umbra.crypto.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PrivateKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.noise.NoiseConformance;
import dev.umbra.crypto.testing.Hex;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyEnvelopeSuite;
import dev.umbra.crypto.webtty.KeyGrant;
import dev.umbra.crypto.webtty.KeyGrants;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.crypto.webtty.PayloadSuite;
import dev.umbra.crypto.webtty.SealedPayload;
import dev.umbra.crypto.webtty.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The published conformance vectors in {@code shared/crypto/conformance/}: the committed files
 * must equal a fresh generator run, and each file is replayed the way a third-party client would.
 * Set {@code -Dumbra.conformance.write=true} to (re)write the files.
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
            assertThat(file).as("missing " + file + "; run the generator (see conformance/README.md)").exists();
            assertThat(Files.readString(file)).as(e.getKey() + " is stale; regenerate it").isEqualTo(e.getValue());
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
        KeyContext ctx = new KeyContext((String) m.get("workspace_id"), (String) m.get("server_id"),
                (String) m.get("session_id"), recipients);
        assertThat(new String(ctx.toCanonicalJson(), StandardCharsets.UTF_8)).isEqualTo(canonicalText);
        return ctx;
    }

    @Test
    void replaysWebttyGrantJson() throws IOException {
        for (JsonNode v : vectors("webtty-grant.json")) {
            X25519KeyPair recipient = X25519KeyPair.fromPrivateKey(X25519PrivateKey.fromBytes(Hex.d(v.get("recipient_private_key").asText())));
            assertThat(recipient.publicKey().toHex()).isEqualTo(v.get("recipient_public_key").asText());
            assertThat(KeyId.of(recipient.publicKey()).toHex()).isEqualTo(v.get("recipient_key_id").asText());
            KeyContext ctx = keyContext(v.get("key_context").asText());
            PayloadKeyId keyId = PayloadKeyId.fromHex(v.get("payload_key_id").asText());
            KeyGrant grant = KeyGrant.fromWire(Hex.d(v.get("recipient_key_id").asText()), v.get("payload_suite").asText(),
                    v.get("key_envelope_suite").asText(), keyId.toBytes(), Hex.d(v.get("enc").asText()),
                    Hex.d(v.get("ciphertext").asText()));
            assertThat(Hex.e(KeyGrants.info(PayloadSuite.AES_256_GCM, KeyEnvelopeSuite.HPKE_X25519_HKDF_SHA256_AES_256_GCM, keyId, ctx)))
                    .isEqualTo(v.get("info").asText());
            assertThat(Hex.e(KeyGrants.aad(grant.recipientKeyId(), PayloadSuite.AES_256_GCM,
                    KeyEnvelopeSuite.HPKE_X25519_HKDF_SHA256_AES_256_GCM, keyId, ctx))).isEqualTo(v.get("aad").asText());
            assertThat(Hex.e(KeyGrants.unwrap(grant, ctx, recipient).exportKeyBytes())).isEqualTo(v.get("payload_key").asText());
            KeyGrant again = KeyGrants.insecureWrapWithEphemeral(PayloadKey.fromBytes(Hex.d(v.get("payload_key").asText())), keyId, ctx,
                    recipient.publicKey(), X25519KeyPair.fromPrivateKey(X25519PrivateKey.fromBytes(Hex.d(v.get("ephemeral_private_key").asText()))));
            assertThat(Hex.e(again.enc())).isEqualTo(v.get("enc").asText());
            assertThat(Hex.e(again.ciphertext())).isEqualTo(v.get("ciphertext").asText());
        }
    }

    @Test
    void replaysWebttyPayloadJson() throws IOException {
        for (JsonNode v : vectors("webtty-payload.json")) {
            PayloadKeyId keyId = PayloadKeyId.fromHex(v.get("payload_key_id").asText());
            PayloadCipher cipher = new PayloadCipher(PayloadKey.fromBytes(Hex.d(v.get("payload_key").asText())), keyId,
                    keyContext(v.get("key_context").asText()));
            Stream stream = Stream.fromWireName(v.get("stream").asText());
            byte[] nonce = Hex.d(v.get("nonce").asText());
            byte[] plaintext = Hex.d(v.get("plaintext").asText());
            assertThat(Hex.e(cipher.aad(stream, nonce, plaintext.length))).isEqualTo(v.get("aad").asText());
            SealedPayload sealed = SealedPayload.fromWire(v.get("stream").asText(), v.get("payload_suite").asText(), keyId.toBytes(),
                    nonce, Hex.d(v.get("ciphertext").asText()), plaintext.length);
            assertThat(Hex.e(cipher.open(sealed))).isEqualTo(v.get("plaintext").asText());
            assertThat(Hex.e(cipher.insecureSealWithNonce(stream, nonce, plaintext).ciphertext())).isEqualTo(v.get("ciphertext").asText());
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
            assertThat(CanonicalJson.canonicalize(MAPPER.writeValueAsString(v.get("document")))).isEqualTo(payload);
            assertThat(v.get("document").get("type").asText()).isEqualTo(dev.umbra.crypto.CryptoConstants.WEBTTY_POLICY_TYPE);
            if (!v.has("signature")) {
                assertThat(v.get("document").has("signer_device_id")).as("an unsigned document names no signer").isFalse();
                continue;
            }
            signed++;
            dev.umbra.crypto.keys.Ed25519PrivateKey key = dev.umbra.crypto.keys.Ed25519PrivateKey.fromBytes(Hex.d(v.get("signer_private_key").asText()));
            assertThat(key.publicKey().toHex()).isEqualTo(v.get("signer_public_key").asText());
            byte[] sig = Hex.d(v.get("signature").asText());
            assertThat(Hex.e(key.sign(payload.getBytes(java.nio.charset.StandardCharsets.UTF_8)))).as("Ed25519 is deterministic").isEqualTo(Hex.e(sig));
            dev.umbra.crypto.keys.Ed25519PublicKey pub = dev.umbra.crypto.keys.Ed25519PublicKey.fromHex(v.get("signer_public_key").asText());
            pub.verify(payload.getBytes(java.nio.charset.StandardCharsets.UTF_8), sig);
            byte[] tampered = v.get("tampered_payload").asText().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> pub.verify(tampered, sig))
                .isInstanceOf(dev.umbra.crypto.CryptoException.class);
        }
        assertThat(signed).isEqualTo(2);
    }
}
