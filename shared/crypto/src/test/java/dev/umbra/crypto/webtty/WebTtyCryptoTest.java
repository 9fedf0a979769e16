package dev.umbra.crypto.webtty;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.InvalidStateException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.UnsupportedSuiteException;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.testing.Mutations;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WebTtyCryptoTest {
    private final X25519KeyPair alice = X25519KeyPair.generate();
    private final X25519KeyPair bob = X25519KeyPair.generate();
    private final KeyContext context = new KeyContext("ws-1", "srv-1", "sess-1",
            List.of(KeyId.of(alice.publicKey()), KeyId.of(bob.publicKey())));
    private final PayloadKey key = PayloadKey.generate();
    private final PayloadKeyId keyId = PayloadKeyId.generate();

    @Test
    void keyIdIsTruncatedDomainSeparatedSha256() throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update("umbra-webtty-key-id/v1".getBytes(StandardCharsets.UTF_8));
        byte[] expected = Arrays.copyOf(sha.digest(alice.publicKey().toBytes()), 16);
        assertThat(KeyId.of(alice.publicKey()).toBytes()).isEqualTo(expected);
    }

    @Test
    void keyContextIsCanonicalJsonWithSortedLowercaseHexRecipients() {
        KeyId a = KeyId.fromHex("ff".repeat(16));
        KeyId b = KeyId.fromHex("0a".repeat(16));
        KeyContext ctx = new KeyContext("w", "s", "x", List.of(a, b));
        assertThat(new String(ctx.toCanonicalJson(), StandardCharsets.UTF_8)).isEqualTo(
                "{\"recipients\":[\"" + "0a".repeat(16) + "\",\"" + "ff".repeat(16)
                        + "\"],\"server_id\":\"s\",\"session_id\":\"x\",\"workspace_id\":\"w\"}");
        assertThatThrownBy(() -> new KeyContext("w", "s", "x", List.of(a, a))).isInstanceOf(MalformedInputException.class);
        assertThatThrownBy(() -> new KeyContext("w", "", "x", List.of(a))).isInstanceOf(MalformedInputException.class);
        assertThatThrownBy(() -> new KeyContext("w", "s", "x", List.of())).isInstanceOf(MalformedInputException.class);
    }

    @Test
    void everyRecipientUnwrapsTheSamePayloadKey() {
        List<KeyGrant> grants = KeyGrants.wrapForAll(key, keyId, context, List.of(alice.publicKey(), bob.publicKey()));
        assertThat(KeyGrants.unwrap(grants.get(0), context, alice)).isEqualTo(key);
        assertThat(KeyGrants.unwrap(grants.get(1), context, bob)).isEqualTo(key);
    }

    @Test
    void rejectsGrantMovedToAnotherKeyContext() {
        KeyGrant grant = KeyGrants.wrap(key, keyId, context, alice.publicKey());
        List<KeyContext> others = List.of(
                new KeyContext("ws-2", "srv-1", "sess-1", context.recipients()),
                new KeyContext("ws-1", "srv-2", "sess-1", context.recipients()),
                new KeyContext("ws-1", "srv-1", "sess-2", context.recipients()),
                new KeyContext("ws-1", "srv-1", "sess-1", List.of(KeyId.of(alice.publicKey()))));
        for (KeyContext other : others) {
            assertThatThrownBy(() -> KeyGrants.unwrap(grant, other, alice)).as(other.toString())
                    .isInstanceOf(AuthenticationFailedException.class);
        }
    }

    @Test
    void rejectsGrantForAnotherPayloadKeyIdOrRecipient() {
        KeyGrant grant = KeyGrants.wrap(key, keyId, context, alice.publicKey());
        KeyGrant otherId = new KeyGrant(grant.recipientKeyId(), grant.payloadSuite(), grant.keyEnvelopeSuite(),
                PayloadKeyId.generate(), grant.enc(), grant.ciphertext());
        assertThatThrownBy(() -> KeyGrants.unwrap(otherId, context, alice)).isInstanceOf(AuthenticationFailedException.class);
        assertThatThrownBy(() -> KeyGrants.unwrap(grant, context, bob)).isInstanceOf(InvalidStateException.class)
                .hasMessageContaining("addressed to key");
        KeyGrant relabelled = new KeyGrant(KeyId.of(bob.publicKey()), grant.payloadSuite(), grant.keyEnvelopeSuite(),
                grant.payloadKeyId(), grant.enc(), grant.ciphertext());
        assertThatThrownBy(() -> KeyGrants.unwrap(relabelled, context, bob)).isInstanceOf(AuthenticationFailedException.class);
        X25519KeyPair outsider = X25519KeyPair.generate();
        assertThatThrownBy(() -> KeyGrants.wrap(key, keyId, context, outsider.publicKey()))
                .isInstanceOf(InvalidStateException.class).hasMessageContaining("not listed");
    }

    @Test
    void flippingAnyBitOfGrantEncOrCiphertextFails() {
        KeyGrant g = KeyGrants.wrap(key, keyId, context, alice.publicKey());
        List<String> accepted = new ArrayList<>();
        accepted.addAll(Mutations.acceptedBitFlips("enc", g.enc(), enc -> KeyGrants.unwrap(
                new KeyGrant(g.recipientKeyId(), g.payloadSuite(), g.keyEnvelopeSuite(), g.payloadKeyId(), enc, g.ciphertext()), context, alice)));
        accepted.addAll(Mutations.acceptedBitFlips("ct", g.ciphertext(), ct -> KeyGrants.unwrap(
                new KeyGrant(g.recipientKeyId(), g.payloadSuite(), g.keyEnvelopeSuite(), g.payloadKeyId(), g.enc(), ct), context, alice)));
        accepted.addAll(Mutations.acceptedTruncations("ct", g.ciphertext(), ct -> KeyGrants.unwrap(
                new KeyGrant(g.recipientKeyId(), g.payloadSuite(), g.keyEnvelopeSuite(), g.payloadKeyId(), g.enc(), ct), context, alice)));
        assertThat(accepted).isEmpty();
    }

    @Test
    void rejectsUnknownOrWrongSuiteStrings() {
        KeyGrant g = KeyGrants.wrap(key, keyId, context, alice.publicKey());
        for (String[] suites : new String[][] {{"aes-128-gcm", "hpke-x25519-hkdf-sha256-aes-256-gcm"},
                {"AES-256-GCM", "hpke-x25519-hkdf-sha256-aes-256-gcm"}, {"aes-256-gcm", "hpke-x25519-hkdf-sha256-chacha20poly1305"},
                {"aes-256-gcm", ""}, {"hpke-x25519-hkdf-sha256-aes-256-gcm", "aes-256-gcm"}}) {
            assertThatThrownBy(() -> KeyGrant.fromWire(g.recipientKeyId().toBytes(), suites[0], suites[1],
                    g.payloadKeyId().toBytes(), g.enc(), g.ciphertext())).isInstanceOf(UnsupportedSuiteException.class);
        }
        assertThatThrownBy(() -> SealedPayload.fromWire("stdout", "chacha20-poly1305", keyId.toBytes(), new byte[12], new byte[16], 0))
                .isInstanceOf(UnsupportedSuiteException.class);
        assertThatThrownBy(() -> SealedPayload.fromWire("stdinn", "aes-256-gcm", keyId.toBytes(), new byte[12], new byte[16], 0))
                .isInstanceOf(MalformedInputException.class);
    }

    @Test
    void sealsAndOpensPayloadsOnEveryStream() {
        PayloadCipher sender = new PayloadCipher(key, keyId, context);
        PayloadCipher receiver = new PayloadCipher(KeyGrants.unwrap(KeyGrants.wrap(key, keyId, context, bob.publicKey()), context, bob), keyId, context);
        for (Stream s : Stream.values()) {
            SealedPayload p = sender.seal(s, "ls -la\n".getBytes());
            assertThat(p.ciphertext()).hasSize(7 + 16);
            assertThat(receiver.open(p)).isEqualTo("ls -la\n".getBytes());
        }
        assertThat(receiver.open(sender.seal(Stream.STDOUT, new byte[0]))).isEmpty();
    }

    @Test
    void stdoutCiphertextFailsAsStdin() {
        PayloadCipher c = new PayloadCipher(key, keyId, context);
        SealedPayload out = c.seal(Stream.STDOUT, "secret output".getBytes());
        SealedPayload asStdin = new SealedPayload(Stream.STDIN, out.suite(), out.payloadKeyId(), out.nonce(), out.ciphertext(), out.plaintextLength());
        assertThatThrownBy(() -> c.open(asStdin)).isInstanceOf(AuthenticationFailedException.class);
    }

    @Test
    void payloadFailsInAnotherContextOrUnderAnotherKeyId() {
        SealedPayload p = new PayloadCipher(key, keyId, context).seal(Stream.STDOUT, new byte[10]);
        KeyContext other = new KeyContext("ws-1", "srv-1", "sess-2", context.recipients());
        assertThatThrownBy(() -> new PayloadCipher(key, keyId, other).open(p)).isInstanceOf(AuthenticationFailedException.class);
        assertThatThrownBy(() -> new PayloadCipher(key, PayloadKeyId.generate(), context).open(p))
                .isInstanceOf(InvalidStateException.class);
    }

    @Test
    void checksTagAndClaimedPlaintextLength() {
        PayloadCipher c = new PayloadCipher(key, keyId, context);
        SealedPayload p = c.seal(Stream.STDOUT, new byte[10]);
        for (long wrong : new long[] {9, 11, 0}) {
            assertThatThrownBy(() -> c.open(new SealedPayload(p.stream(), p.suite(), p.payloadKeyId(), p.nonce(), p.ciphertext(), wrong)))
                    .isInstanceOf(MalformedInputException.class).hasMessageContaining("plaintext bytes");
        }
    }

    @Test
    void flippingAnyBitOfCiphertextTagOrNonceAndAnyTruncationFails() {
        PayloadCipher c = new PayloadCipher(key, keyId, context);
        SealedPayload p = c.seal(Stream.STDERR, "error: boom".getBytes());
        List<String> accepted = new ArrayList<>();
        accepted.addAll(Mutations.acceptedBitFlips("ciphertext+tag", p.ciphertext(),
                ct -> c.open(new SealedPayload(p.stream(), p.suite(), p.payloadKeyId(), p.nonce(), ct, p.plaintextLength()))));
        accepted.addAll(Mutations.acceptedBitFlips("nonce", p.nonce(),
                n -> c.open(new SealedPayload(p.stream(), p.suite(), p.payloadKeyId(), n, p.ciphertext(), p.plaintextLength()))));
        accepted.addAll(Mutations.acceptedTruncations("ciphertext", p.ciphertext(),
                ct -> c.open(new SealedPayload(p.stream(), p.suite(), p.payloadKeyId(), p.nonce(), ct, p.plaintextLength()))));
        accepted.addAll(Mutations.acceptedTruncations("nonce", p.nonce(),
                n -> c.open(new SealedPayload(p.stream(), p.suite(), p.payloadKeyId(), n, p.ciphertext(), p.plaintextLength()))));
        assertThat(accepted).isEmpty();
    }

    @Test
    void flippingAnyBitOfTheAadFails() {
        PayloadCipher c = new PayloadCipher(key, keyId, context);
        byte[] nonce = new byte[12];
        byte[] plaintext = "x".getBytes();
        byte[] aad = c.aad(Stream.STDOUT, nonce, plaintext.length);
        byte[] ct = dev.umbra.crypto.aead.Aes256Gcm.seal(dev.umbra.crypto.aead.AeadKey.fromBytes(key.exportKeyBytes()), nonce, aad, plaintext);
        assertThat(c.open(new SealedPayload(Stream.STDOUT, PayloadSuite.AES_256_GCM, keyId, nonce, ct, 1))).isEqualTo(plaintext);
        assertThat(Mutations.acceptedBitFlips("aad", aad, a -> dev.umbra.crypto.aead.Aes256Gcm.open(
                dev.umbra.crypto.aead.AeadKey.fromBytes(key.exportKeyBytes()), nonce, a, ct))).isEmpty();
    }

    @Test
    void payloadKeysAndIdsAreRandomAndTyped() {
        assertThat(PayloadKey.generate()).isNotEqualTo(PayloadKey.generate());
        assertThat(PayloadKeyId.generate()).isNotEqualTo(PayloadKeyId.generate());
        assertThat(PayloadKey.generate().toString()).doesNotContainPattern("[0-9a-f]{8}");
        assertThatThrownBy(() -> PayloadKey.fromBytes(new byte[16])).isInstanceOf(CryptoException.class);
    }
}
