package dev.umbra.crypto.webtty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.InvalidStateException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.UnsupportedSuiteException;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.testing.Mutations;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class WebTtyCryptoTest {
  private final X25519KeyPair alice = X25519KeyPair.generate();
  private final X25519KeyPair bob = X25519KeyPair.generate();
  private final KeyContext context =
      new KeyContext(
          "ws-1",
          "srv-1",
          "sess-1",
          List.of(KeyId.of(alice.publicKey()), KeyId.of(bob.publicKey())));
  private final PayloadKey key = PayloadKey.generate();
  private final PayloadKeyId keyId = PayloadKeyId.generate();
  private static final KeyId SERVER = KeyId.fromHex("5e".repeat(16));
  private static final KeyId OPENER = KeyId.fromHex("0e".repeat(16));

  private PayloadCipher out() {
    return new PayloadCipher(KeyRole.OUTPUT, key, keyId, context);
  }

  private static SealedPayload with(
      SealedPayload p,
      Stream stream,
      KeyId sender,
      long counter,
      byte[] nonce,
      byte[] ct,
      long length) {
    return new SealedPayload(
        stream, p.suite(), p.payloadKeyId(), sender, counter, nonce, ct, length);
  }

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
    assertThat(new String(ctx.toCanonicalJson(), StandardCharsets.UTF_8))
        .isEqualTo(
            "{\"recipients\":[\""
                + "0a".repeat(16)
                + "\",\""
                + "ff".repeat(16)
                + "\"],\"server_id\":\"s\",\"session_id\":\"x\",\"workspace_id\":\"w\"}");
    assertThatThrownBy(() -> new KeyContext("w", "s", "x", List.of(a, a)))
        .isInstanceOf(MalformedInputException.class);
    assertThatThrownBy(() -> new KeyContext("w", "", "x", List.of(a)))
        .isInstanceOf(MalformedInputException.class);
    assertThatThrownBy(() -> new KeyContext("w", "s", "x", List.of()))
        .isInstanceOf(MalformedInputException.class);
  }

  @Test
  void everyRecipientUnwrapsTheSamePayloadKey() {
    List<KeyGrant> grants =
        KeyGrants.wrapForAll(
            KeyRole.OUTPUT, key, keyId, context, List.of(alice.publicKey(), bob.publicKey()));
    assertThat(KeyGrants.unwrap(grants.get(0), context, alice)).isEqualTo(key);
    assertThat(KeyGrants.unwrap(grants.get(1), context, bob)).isEqualTo(key);
  }

  @Test
  void rejectsGrantMovedToAnotherKeyContext() {
    KeyGrant grant = KeyGrants.wrap(KeyRole.OUTPUT, key, keyId, context, alice.publicKey());
    List<KeyContext> others =
        List.of(
            new KeyContext("ws-2", "srv-1", "sess-1", context.recipients()),
            new KeyContext("ws-1", "srv-2", "sess-1", context.recipients()),
            new KeyContext("ws-1", "srv-1", "sess-2", context.recipients()),
            new KeyContext("ws-1", "srv-1", "sess-1", List.of(KeyId.of(alice.publicKey()))));
    for (KeyContext other : others) {
      assertThatThrownBy(() -> KeyGrants.unwrap(grant, other, alice))
          .as(other.toString())
          .isInstanceOf(AuthenticationFailedException.class);
    }
  }

  @Test
  void rejectsGrantForAnotherPayloadKeyIdOrRecipient() {
    KeyGrant grant = KeyGrants.wrap(KeyRole.OUTPUT, key, keyId, context, alice.publicKey());
    KeyGrant otherId =
        new KeyGrant(
            grant.recipientKeyId(),
            grant.role(),
            grant.payloadSuite(),
            grant.keyEnvelopeSuite(),
            PayloadKeyId.generate(),
            grant.enc(),
            grant.ciphertext());
    assertThatThrownBy(() -> KeyGrants.unwrap(otherId, context, alice))
        .isInstanceOf(AuthenticationFailedException.class);
    assertThatThrownBy(() -> KeyGrants.unwrap(grant, context, bob))
        .isInstanceOf(InvalidStateException.class)
        .hasMessageContaining("addressed to key");
    KeyGrant relabelled =
        new KeyGrant(
            KeyId.of(bob.publicKey()),
            grant.role(),
            grant.payloadSuite(),
            grant.keyEnvelopeSuite(),
            grant.payloadKeyId(),
            grant.enc(),
            grant.ciphertext());
    assertThatThrownBy(() -> KeyGrants.unwrap(relabelled, context, bob))
        .isInstanceOf(AuthenticationFailedException.class);
    X25519KeyPair outsider = X25519KeyPair.generate();
    assertThatThrownBy(
            () -> KeyGrants.wrap(KeyRole.OUTPUT, key, keyId, context, outsider.publicKey()))
        .isInstanceOf(InvalidStateException.class)
        .hasMessageContaining("not listed");
  }

  @Test
  void flippingAnyBitOfGrantEncOrCiphertextFails() {
    KeyGrant g = KeyGrants.wrap(KeyRole.OUTPUT, key, keyId, context, alice.publicKey());
    List<String> accepted = new ArrayList<>();
    accepted.addAll(
        Mutations.acceptedBitFlips(
            "enc",
            g.enc(),
            enc ->
                KeyGrants.unwrap(
                    new KeyGrant(
                        g.recipientKeyId(),
                        g.role(),
                        g.payloadSuite(),
                        g.keyEnvelopeSuite(),
                        g.payloadKeyId(),
                        enc,
                        g.ciphertext()),
                    context,
                    alice)));
    accepted.addAll(
        Mutations.acceptedBitFlips(
            "ct",
            g.ciphertext(),
            ct ->
                KeyGrants.unwrap(
                    new KeyGrant(
                        g.recipientKeyId(),
                        g.role(),
                        g.payloadSuite(),
                        g.keyEnvelopeSuite(),
                        g.payloadKeyId(),
                        g.enc(),
                        ct),
                    context,
                    alice)));
    accepted.addAll(
        Mutations.acceptedTruncations(
            "ct",
            g.ciphertext(),
            ct ->
                KeyGrants.unwrap(
                    new KeyGrant(
                        g.recipientKeyId(),
                        g.role(),
                        g.payloadSuite(),
                        g.keyEnvelopeSuite(),
                        g.payloadKeyId(),
                        g.enc(),
                        ct),
                    context,
                    alice)));
    assertThat(accepted).isEmpty();
  }

  @Test
  void rejectsUnknownOrWrongSuiteStrings() {
    KeyGrant g = KeyGrants.wrap(KeyRole.OUTPUT, key, keyId, context, alice.publicKey());
    for (String[] suites :
        new String[][] {
          {"aes-128-gcm", "hpke-x25519-hkdf-sha256-aes-256-gcm"},
          {"AES-256-GCM", "hpke-x25519-hkdf-sha256-aes-256-gcm"},
          {"aes-256-gcm", "hpke-x25519-hkdf-sha256-chacha20poly1305"},
          {"aes-256-gcm", ""},
          {"hpke-x25519-hkdf-sha256-aes-256-gcm", "aes-256-gcm"}
        }) {
      assertThatThrownBy(
              () ->
                  KeyGrant.fromWire(
                      g.recipientKeyId().toBytes(),
                      "output",
                      suites[0],
                      suites[1],
                      g.payloadKeyId().toBytes(),
                      g.enc(),
                      g.ciphertext()))
          .isInstanceOf(UnsupportedSuiteException.class);
    }
    assertThatThrownBy(
            () ->
                SealedPayload.fromWire(
                    "stdout",
                    "chacha20-poly1305",
                    keyId.toBytes(),
                    SERVER.toBytes(),
                    0,
                    new byte[12],
                    new byte[16],
                    0))
        .isInstanceOf(UnsupportedSuiteException.class);
    assertThatThrownBy(
            () ->
                SealedPayload.fromWire(
                    "stdinn",
                    "aes-256-gcm",
                    keyId.toBytes(),
                    SERVER.toBytes(),
                    0,
                    new byte[12],
                    new byte[16],
                    0))
        .isInstanceOf(MalformedInputException.class);
  }

  @Test
  void sealsAndOpensEachStreamOnlyUnderTheKeyOfItsRole() {
    PayloadCipher sender = out();
    PayloadCipher receiver =
        new PayloadCipher(
            KeyRole.OUTPUT,
            KeyGrants.unwrap(
                KeyGrants.wrap(KeyRole.OUTPUT, key, keyId, context, bob.publicKey()), context, bob),
            keyId,
            context);
    for (Stream s : List.of(Stream.STDOUT, Stream.STDERR)) {
      SealedPayload p = sender.seal(s, SERVER, 0, "ls -la\n".getBytes());
      assertThat(p.ciphertext()).hasSize(7 + 16);
      assertThat(receiver.open(p)).isEqualTo("ls -la\n".getBytes());
    }
    assertThat(receiver.open(sender.seal(Stream.STDOUT, SERVER, 1, new byte[0]))).isEmpty();
    PayloadCipher input = new PayloadCipher(KeyRole.INPUT, key, keyId, context);
    for (Stream s : List.of(Stream.STDIN, Stream.RESIZE)) {
      assertThat(input.open(input.seal(s, OPENER, 0, new byte[8]))).hasSize(8);
      assertThatThrownBy(() -> sender.seal(s, SERVER, 0, new byte[1]))
          .isInstanceOf(InvalidStateException.class);
    }
    assertThatThrownBy(() -> input.seal(Stream.STDOUT, OPENER, 0, new byte[1]))
        .isInstanceOf(InvalidStateException.class);
  }

  @Test
  void theAadIsExactlyTheDocumentedBytes() throws Exception {
    byte[] nonce = new byte[12];
    Arrays.fill(nonce, (byte) 7);
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    java.io.DataOutputStream d = new java.io.DataOutputStream(b);
    for (byte[] part :
        new byte[][] {
          "umbra-webtty-payload/v2".getBytes(StandardCharsets.UTF_8),
          "output".getBytes(),
          "stderr".getBytes(),
          "aes-256-gcm".getBytes(),
          keyId.toBytes(),
          context.toCanonicalJson(),
          SERVER.toBytes()
        }) {
      d.writeInt(part.length);
      d.write(part);
    }
    d.writeLong(0x0102030405060708L);
    d.writeInt(12);
    d.write(nonce);
    d.writeLong(5);
    assertThat(out().aad(Stream.STDERR, SERVER, 0x0102030405060708L, nonce, 5))
        .isEqualTo(b.toByteArray());
  }

  @Test
  void aPayloadFailsUnderTheOtherRoleAnotherStreamSenderOrCounter() {
    PayloadCipher c = out();
    SealedPayload p = c.seal(Stream.STDOUT, SERVER, 3, "secret output".getBytes());
    byte[] n = p.nonce();
    byte[] ct = p.ciphertext();
    long len = p.plaintextLength();
    // the same key bytes in the input role: the role is bound, so output cannot pass for stdin
    PayloadCipher asInput = new PayloadCipher(KeyRole.INPUT, key, keyId, context);
    assertThatThrownBy(() -> asInput.open(with(p, Stream.STDIN, SERVER, 3, n, ct, len)))
        .isInstanceOf(AuthenticationFailedException.class);
    assertThatThrownBy(() -> c.open(with(p, Stream.STDERR, SERVER, 3, n, ct, len)))
        .isInstanceOf(AuthenticationFailedException.class);
    assertThatThrownBy(() -> c.open(with(p, Stream.STDOUT, OPENER, 3, n, ct, len)))
        .isInstanceOf(AuthenticationFailedException.class);
    for (long other : new long[] {0, 2, 4, Long.MAX_VALUE}) {
      assertThatThrownBy(() -> c.open(with(p, Stream.STDOUT, SERVER, other, n, ct, len)))
          .isInstanceOf(AuthenticationFailedException.class);
    }
    assertThat(c.open(p)).isEqualTo("secret output".getBytes());
  }

  @Test
  void aV1PayloadIsRefusedNeverOpened() throws Exception {
    // v1 AAD: lp("umbra-webtty-payload/v1") lp(stream) lp(suite) lp(key id) lp(context) lp(nonce)
    // u64be(length)
    byte[] nonce = new byte[12];
    byte[] plaintext = "ls\r".getBytes();
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    java.io.DataOutputStream d = new java.io.DataOutputStream(b);
    for (byte[] part :
        new byte[][] {
          "umbra-webtty-payload/v1".getBytes(),
          "stdin".getBytes(),
          "aes-256-gcm".getBytes(),
          keyId.toBytes(),
          context.toCanonicalJson(),
          nonce
        }) {
      d.writeInt(part.length);
      d.write(part);
    }
    d.writeLong(plaintext.length);
    byte[] ct =
        dev.umbra.crypto.aead.Aes256Gcm.seal(
            dev.umbra.crypto.aead.AeadKey.fromBytes(key.exportKeyBytes()),
            nonce,
            b.toByteArray(),
            plaintext);
    // on the wire a v1 payload has no sender key id: malformed before any key is used
    assertThatThrownBy(
            () ->
                SealedPayload.fromWire(
                    "stdin",
                    "aes-256-gcm",
                    keyId.toBytes(),
                    new byte[0],
                    0,
                    nonce,
                    ct,
                    plaintext.length))
        .isInstanceOf(MalformedInputException.class);
    // given any sender and counter, its tag does not verify under the v2 AAD
    PayloadCipher input = new PayloadCipher(KeyRole.INPUT, key, keyId, context);
    for (long counter : new long[] {0, 1}) {
      assertThatThrownBy(
              () ->
                  input.open(
                      new SealedPayload(
                          Stream.STDIN,
                          PayloadSuite.AES_256_GCM,
                          keyId,
                          OPENER,
                          counter,
                          nonce,
                          ct,
                          plaintext.length)))
          .isInstanceOf(AuthenticationFailedException.class);
    }
  }

  @Test
  void payloadFailsInAnotherContextOrUnderAnotherKeyId() {
    SealedPayload p = out().seal(Stream.STDOUT, SERVER, 0, new byte[10]);
    KeyContext other = new KeyContext("ws-1", "srv-1", "sess-2", context.recipients());
    assertThatThrownBy(() -> new PayloadCipher(KeyRole.OUTPUT, key, keyId, other).open(p))
        .isInstanceOf(AuthenticationFailedException.class);
    assertThatThrownBy(
            () -> new PayloadCipher(KeyRole.OUTPUT, key, PayloadKeyId.generate(), context).open(p))
        .isInstanceOf(InvalidStateException.class);
  }

  @Test
  void checksTagAndClaimedPlaintextLengthAndCounterRange() {
    PayloadCipher c = out();
    SealedPayload p = c.seal(Stream.STDOUT, SERVER, 0, new byte[10]);
    for (long wrong : new long[] {9, 11, 0}) {
      assertThatThrownBy(
              () -> c.open(with(p, p.stream(), SERVER, 0, p.nonce(), p.ciphertext(), wrong)))
          .isInstanceOf(MalformedInputException.class)
          .hasMessageContaining("plaintext bytes");
    }
    // a u64 counter of 2^63 or more reads negative in Java: refused, never wrapped
    assertThatThrownBy(() -> with(p, p.stream(), SERVER, -1, p.nonce(), p.ciphertext(), 10))
        .isInstanceOf(MalformedInputException.class);
    assertThatThrownBy(
            () ->
                SealedPayload.fromWire(
                    "stdout",
                    "aes-256-gcm",
                    keyId.toBytes(),
                    new byte[15],
                    0,
                    new byte[12],
                    new byte[16],
                    0))
        .isInstanceOf(CryptoException.class);
  }

  @Test
  void flippingAnyBitOfCiphertextTagOrNonceAndAnyTruncationFails() {
    PayloadCipher c = out();
    SealedPayload p = c.seal(Stream.STDERR, SERVER, 9, "error: boom".getBytes());
    List<String> accepted = new ArrayList<>();
    accepted.addAll(
        Mutations.acceptedBitFlips(
            "ciphertext+tag",
            p.ciphertext(),
            ct -> c.open(with(p, p.stream(), SERVER, 9, p.nonce(), ct, p.plaintextLength()))));
    accepted.addAll(
        Mutations.acceptedBitFlips(
            "nonce",
            p.nonce(),
            n -> c.open(with(p, p.stream(), SERVER, 9, n, p.ciphertext(), p.plaintextLength()))));
    accepted.addAll(
        Mutations.acceptedBitFlips(
            "sender",
            SERVER.toBytes(),
            s ->
                c.open(
                    with(
                        p,
                        p.stream(),
                        KeyId.fromBytes(s),
                        9,
                        p.nonce(),
                        p.ciphertext(),
                        p.plaintextLength()))));
    accepted.addAll(
        Mutations.acceptedTruncations(
            "ciphertext",
            p.ciphertext(),
            ct -> c.open(with(p, p.stream(), SERVER, 9, p.nonce(), ct, p.plaintextLength()))));
    accepted.addAll(
        Mutations.acceptedTruncations(
            "nonce",
            p.nonce(),
            n -> c.open(with(p, p.stream(), SERVER, 9, n, p.ciphertext(), p.plaintextLength()))));
    assertThat(accepted).isEmpty();
  }

  @Test
  void flippingAnyBitOfTheAadFails() {
    PayloadCipher c = out();
    byte[] nonce = new byte[12];
    byte[] plaintext = "x".getBytes();
    byte[] aad = c.aad(Stream.STDOUT, SERVER, 4, nonce, plaintext.length);
    byte[] ct =
        dev.umbra.crypto.aead.Aes256Gcm.seal(
            dev.umbra.crypto.aead.AeadKey.fromBytes(key.exportKeyBytes()), nonce, aad, plaintext);
    assertThat(
            c.open(
                new SealedPayload(
                    Stream.STDOUT, PayloadSuite.AES_256_GCM, keyId, SERVER, 4, nonce, ct, 1)))
        .isEqualTo(plaintext);
    assertThat(
            Mutations.acceptedBitFlips(
                "aad",
                aad,
                a ->
                    dev.umbra.crypto.aead.Aes256Gcm.open(
                        dev.umbra.crypto.aead.AeadKey.fromBytes(key.exportKeyBytes()),
                        nonce,
                        a,
                        ct)))
        .isEmpty();
  }

  @Test
  void aSenderCountsFromZeroAndAReceiverRefusesRepeatsAndStepsBackAndReportsGaps() {
    PayloadSender sender = new PayloadSender(out(), SERVER);
    List<SealedPayload> sent = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      sent.add(sender.seal(Stream.STDOUT, new byte[] {(byte) i}));
    }
    assertThat(sent).extracting(SealedPayload::counter).containsExactly(0L, 1L, 2L, 3L, 4L);
    PayloadCounters r = PayloadCounters.fromZero();
    assertThat(r.observe(sent.get(0)).kind()).isEqualTo(PayloadCounters.Kind.IN_ORDER);
    assertThat(r.observe(sent.get(1)).kind()).isEqualTo(PayloadCounters.Kind.IN_ORDER);
    // the same frame again (a replay), an older one (a step back): refused, position unchanged
    assertThat(r.observe(sent.get(1)))
        .isEqualTo(new PayloadCounters.Verdict(PayloadCounters.Kind.REPEAT, 2, 1, 0));
    assertThat(r.observe(sent.get(0)).accepted()).isFalse();
    // 2 and 3 dropped: a gap of two, then 4 is the position; 2 arriving late is a step back
    assertThat(r.observe(sent.get(4)))
        .isEqualTo(new PayloadCounters.Verdict(PayloadCounters.Kind.GAP, 2, 4, 2));
    assertThat(r.observe(sent.get(2)).kind()).isEqualTo(PayloadCounters.Kind.REPEAT);
    // other senders and other keys count on their own
    assertThat(r.observe(keyId, OPENER, 0).kind()).isEqualTo(PayloadCounters.Kind.IN_ORDER);
    assertThat(r.observe(PayloadKeyId.generate(), SERVER, 1).kind())
        .isEqualTo(PayloadCounters.Kind.GAP);
    // a first payload not at 0 is a gap from zero, unless the receiver joined late
    assertThat(PayloadCounters.fromZero().observe(keyId, SERVER, 7).missing()).isEqualTo(7);
    PayloadCounters joiner = PayloadCounters.fromFirstSeen();
    assertThat(joiner.observe(keyId, SERVER, 7).kind()).isEqualTo(PayloadCounters.Kind.IN_ORDER);
    assertThat(joiner.observe(keyId, SERVER, 7).kind()).isEqualTo(PayloadCounters.Kind.REPEAT);
    assertThat(joiner.observe(keyId, SERVER, 9).missing()).isEqualTo(1);
  }

  @Test
  void theNumberOfTrackedStreamsIsBounded() {
    PayloadCounters r = PayloadCounters.fromZero();
    for (int i = 0; i < PayloadCounters.MAX_STREAMS; i++) {
      r.observe(PayloadKeyId.generate(), SERVER, 0);
    }
    assertThatThrownBy(() -> r.observe(PayloadKeyId.generate(), SERVER, 0))
        .isInstanceOf(InvalidStateException.class);
  }

  @Test
  void anOutputGrantCannotBeUnwrappedAsAnInputGrantOrBack() {
    KeyGrant g = KeyGrants.wrap(KeyRole.OUTPUT, key, keyId, context, alice.publicKey());
    KeyGrant relabelled =
        new KeyGrant(
            g.recipientKeyId(),
            KeyRole.INPUT,
            g.payloadSuite(),
            g.keyEnvelopeSuite(),
            g.payloadKeyId(),
            g.enc(),
            g.ciphertext());
    assertThatThrownBy(() -> KeyGrants.unwrap(relabelled, context, alice))
        .isInstanceOf(AuthenticationFailedException.class);
    assertThatThrownBy(
            () ->
                KeyGrant.fromWire(
                    g.recipientKeyId().toBytes(),
                    "both",
                    "aes-256-gcm",
                    "hpke-x25519-hkdf-sha256-aes-256-gcm",
                    keyId.toBytes(),
                    g.enc(),
                    g.ciphertext()))
        .isInstanceOf(MalformedInputException.class);
  }

  private InputKeyGrant inputGrant(PayloadKey inputKey, PayloadKeyId inputKeyId, long epoch) {
    return new InputKeyGrant(
        "ws-1",
        "srv-1",
        "sess-1",
        epoch,
        KeyId.of(bob.publicKey()),
        inputKeyId,
        keyId,
        KeyGrants.wrapForAll(
            KeyRole.INPUT,
            inputKey,
            inputKeyId,
            context,
            List.of(bob.publicKey(), alice.publicKey())),
        1_700_000_000_000L);
  }

  @Test
  void aSignedInputKeyGrantVerifiesOnlyUnderThePinnedServerKeyAndUnwrapsForTheController() {
    dev.umbra.crypto.keys.Ed25519KeyPair server = dev.umbra.crypto.keys.Ed25519KeyPair.generate();
    PayloadKey inputKey = PayloadKey.generate();
    PayloadKeyId inputKeyId = PayloadKeyId.generate();
    InputKeyGrant.Signed signed = inputGrant(inputKey, inputKeyId, 1).sign(server);
    InputKeyGrant g =
        InputKeyGrant.verify(signed.canonicalJson(), signed.signature(), server.publicKey());
    assertThat(g.epoch()).isEqualTo(1);
    assertThat(KeyGrants.unwrap(g.grantFor(KeyId.of(bob.publicKey())), context, bob))
        .isEqualTo(inputKey);
    assertThat(new String(signed.canonicalJson(), StandardCharsets.UTF_8))
        .startsWith("{\"controller_key_id\":\"")
        .contains("\"type\":\"umbra-webtty-input-key/v2\"")
        .contains("\"epoch\":1,");
    // another signer (an engine, a viewer), a flipped byte, a flipped signature bit: refused
    assertThatThrownBy(
            () ->
                InputKeyGrant.verify(
                    signed.canonicalJson(),
                    signed.signature(),
                    dev.umbra.crypto.keys.Ed25519KeyPair.generate().publicKey()))
        .isInstanceOf(AuthenticationFailedException.class);
    assertThat(
            Mutations.acceptedBitFlips(
                "json",
                signed.canonicalJson(),
                j -> InputKeyGrant.verify(j, signed.signature(), server.publicKey())))
        .isEmpty();
    assertThat(
            Mutations.acceptedBitFlips(
                "sig",
                signed.signature(),
                s -> InputKeyGrant.verify(signed.canonicalJson(), s, server.publicKey())))
        .isEmpty();
    assertThat(
            Mutations.acceptedTruncations(
                "json",
                signed.canonicalJson(),
                j -> InputKeyGrant.verify(j, signed.signature(), server.publicKey())))
        .isEmpty();
  }

  @Test
  void aSignedInputKeyGrantMustHaveExactlyItsMembers() {
    dev.umbra.crypto.keys.Ed25519KeyPair server = dev.umbra.crypto.keys.Ed25519KeyPair.generate();
    java.util.Map<String, Object> good =
        inputGrant(PayloadKey.generate(), PayloadKeyId.generate(), 2).toJson();
    List<java.util.Map<String, Object>> bad = new ArrayList<>();
    for (String member : good.keySet()) {
      java.util.Map<String, Object> m = new java.util.LinkedHashMap<>(good);
      m.remove(member);
      bad.add(m);
    }
    java.util.Map<String, Object> extra = new java.util.LinkedHashMap<>(good);
    extra.put("reviewers", List.of());
    bad.add(extra);
    java.util.Map<String, Object> epoch0 = new java.util.LinkedHashMap<>(good);
    epoch0.put(
        "epoch",
        -1L); // epoch 0 is the reviewers' grant of the opener's own input key; below it nothing
    bad.add(epoch0);
    java.util.Map<String, Object> v1 = new java.util.LinkedHashMap<>(good);
    v1.put("type", "umbra-webtty-input-key/v1");
    bad.add(v1);
    java.util.Map<String, Object> suite = new java.util.LinkedHashMap<>(good);
    suite.put("payload_suite", "chacha20-poly1305");
    bad.add(suite);
    java.util.Map<String, Object> noController = new java.util.LinkedHashMap<>(good);
    noController.put("controller_key_id", "ab".repeat(16));
    bad.add(noController);
    for (java.util.Map<String, Object> m : bad) {
      byte[] json = dev.umbra.crypto.json.CanonicalJson.encode(m);
      byte[] sig = server.privateKey().sign(json);
      assertThatThrownBy(() -> InputKeyGrant.verify(json, sig, server.publicKey()))
          .as(m.keySet().toString())
          .isInstanceOf(CryptoException.class)
          .isNotInstanceOf(AuthenticationFailedException.class);
    }
    byte[] spaced = " {}".getBytes();
    assertThatThrownBy(
            () ->
                InputKeyGrant.verify(spaced, server.privateKey().sign(spaced), server.publicKey()))
        .isInstanceOf(MalformedInputException.class);
  }

  @Test
  void payloadKeysAndIdsAreRandomAndTyped() {
    assertThat(PayloadKey.generate()).isNotEqualTo(PayloadKey.generate());
    assertThat(PayloadKeyId.generate()).isNotEqualTo(PayloadKeyId.generate());
    assertThat(PayloadKey.generate().toString()).doesNotContainPattern("[0-9a-f]{8}");
    assertThatThrownBy(() -> PayloadKey.fromBytes(new byte[16]))
        .isInstanceOf(CryptoException.class);
  }
}
