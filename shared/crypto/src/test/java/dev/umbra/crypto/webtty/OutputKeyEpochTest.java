package dev.umbra.crypto.webtty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.testing.Mutations;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The daemon-signed output-key epoch (docs/webtty.md "Adding a recipient to a live session"): a
 * share adds a recipient by a fresh output key under a new key context; the added device reads from
 * that epoch on, never before, and a client refuses a forged, replayed, rolled-back or skipped
 * document.
 */
class OutputKeyEpochTest {
  private final Ed25519KeyPair server = Ed25519KeyPair.generate();
  private final X25519KeyPair daemon = X25519KeyPair.generate();
  private final X25519KeyPair opener = X25519KeyPair.generate();
  private final X25519KeyPair added = X25519KeyPair.generate();
  private final KeyContext epoch0 =
      new KeyContext(
          "ws-1",
          "srv-1",
          "sess-1",
          List.of(KeyId.of(daemon.publicKey()), KeyId.of(opener.publicKey())));
  private final PayloadKey key0 = PayloadKey.generate();
  private final PayloadKeyId keyId0 = PayloadKeyId.generate();

  private OutputKeyEpoch share(
      long epoch,
      PayloadKey key,
      PayloadKeyId id,
      PayloadKeyId previous,
      KeyContext ctx,
      List<X25519KeyPair> recipients) {
    return new OutputKeyEpoch(
        "ws-1",
        "srv-1",
        "sess-1",
        epoch,
        id,
        previous,
        ctx,
        KeyGrants.wrapForAll(
            KeyRole.OUTPUT,
            key,
            id,
            ctx,
            recipients.stream().map(X25519KeyPair::publicKey).toList()),
        1_767_225_600_000L);
  }

  private KeyContext withAdded() {
    return new KeyContext(
        "ws-1",
        "srv-1",
        "sess-1",
        List.of(
            KeyId.of(daemon.publicKey()),
            KeyId.of(opener.publicKey()),
            KeyId.of(added.publicKey())));
  }

  @Test
  void theAddedDeviceReadsFromItsEpochOnAndNeverTheOutputBeforeIt() {
    PayloadCipher before = new PayloadCipher(KeyRole.OUTPUT, key0, keyId0, epoch0);
    SealedPayload old =
        before.seal(
            Stream.STDOUT,
            KeyId.of(daemon.publicKey()),
            0,
            "typed before the share".getBytes(StandardCharsets.UTF_8));
    PayloadKey key1 = PayloadKey.generate();
    PayloadKeyId keyId1 = PayloadKeyId.generate();
    KeyContext ctx1 = withAdded();
    OutputKeyEpoch.Signed signed =
        share(1, key1, keyId1, keyId0, ctx1, List.of(daemon, opener, added)).sign(server);

    OutputKeyEpoch e =
        OutputKeyEpoch.verifyNext(
            signed.canonicalJson(), signed.signature(), server.publicKey(), epoch0, 0, keyId0);
    PayloadKey got =
        KeyGrants.unwrap(e.grantFor(KeyId.of(added.publicKey())), e.keyContext(), added);
    assertThat(got).isEqualTo(key1);
    assertThat(KeyGrants.unwrap(e.grantFor(KeyId.of(opener.publicKey())), e.keyContext(), opener))
        .isEqualTo(key1);
    PayloadCipher after = new PayloadCipher(KeyRole.OUTPUT, got, keyId1, e.keyContext());
    SealedPayload fresh =
        new PayloadCipher(KeyRole.OUTPUT, key1, keyId1, ctx1)
            .seal(
                Stream.STDOUT,
                KeyId.of(daemon.publicKey()),
                0,
                "after".getBytes(StandardCharsets.UTF_8));
    assertThat(after.open(fresh)).isEqualTo("after".getBytes(StandardCharsets.UTF_8));
    // what it holds opens nothing of epoch 0: another key id, and under its key the tag fails
    assertThatThrownBy(() -> after.open(old)).isInstanceOf(CryptoException.class);
    assertThat(e.grantFor(KeyId.of(X25519KeyPair.generate().publicKey()))).isNull();
    assertThat(new String(signed.canonicalJson(), StandardCharsets.UTF_8))
        .startsWith("{\"epoch\":1,\"grants\":[")
        .contains("\"key_context\":{\"recipients\":[")
        .contains("\"type\":\"umbra-webtty-output-key/v2\"");
  }

  @Test
  void aForgedOrDamagedDocumentIsRefusedBeforeAnythingOfItIsRead() {
    OutputKeyEpoch.Signed signed =
        share(
                1,
                PayloadKey.generate(),
                PayloadKeyId.generate(),
                keyId0,
                withAdded(),
                List.of(daemon, opener, added))
            .sign(server);
    // signed by anyone but the pinned server key (the engine, a recipient): refused
    OutputKeyEpoch.Signed forged =
        share(
                1,
                PayloadKey.generate(),
                PayloadKeyId.generate(),
                keyId0,
                withAdded(),
                List.of(daemon, opener, added))
            .sign(Ed25519KeyPair.generate());
    assertThatThrownBy(
            () ->
                OutputKeyEpoch.verify(
                    forged.canonicalJson(), forged.signature(), server.publicKey()))
        .isInstanceOf(AuthenticationFailedException.class);
    assertThat(
            Mutations.acceptedBitFlips(
                "json",
                signed.canonicalJson(),
                j -> OutputKeyEpoch.verify(j, signed.signature(), server.publicKey())))
        .isEmpty();
    assertThat(
            Mutations.acceptedBitFlips(
                "sig",
                signed.signature(),
                s -> OutputKeyEpoch.verify(signed.canonicalJson(), s, server.publicKey())))
        .isEmpty();
    assertThat(
            Mutations.acceptedTruncations(
                "json",
                signed.canonicalJson(),
                j -> OutputKeyEpoch.verify(j, signed.signature(), server.publicKey())))
        .isEmpty();
    byte[] oversized = new byte[16 * 1024 + 1];
    assertThatThrownBy(
            () ->
                OutputKeyEpoch.verify(
                    oversized, server.privateKey().sign(oversized), server.publicKey()))
        .isInstanceOf(MalformedInputException.class);
    assertThatThrownBy(
            () -> OutputKeyEpoch.verify(signed.canonicalJson(), new byte[63], server.publicKey()))
        .isInstanceOf(MalformedInputException.class);
  }

  @Test
  void aReplayedRolledBackSkippedOrShrinkingEpochIsRefusedByTheReceiver() {
    PayloadKey key1 = PayloadKey.generate();
    PayloadKeyId keyId1 = PayloadKeyId.generate();
    KeyContext ctx1 = withAdded();
    OutputKeyEpoch.Signed one =
        share(1, key1, keyId1, keyId0, ctx1, List.of(daemon, opener, added)).sign(server);
    OutputKeyEpoch e1 =
        OutputKeyEpoch.verifyNext(
            one.canonicalJson(), one.signature(), server.publicKey(), epoch0, 0, keyId0);
    // replayed after it was accepted (the receiver is at epoch 1 with key 1)
    assertRefused(one, ctx1, 1, keyId1, OutputKeyEpoch.Mismatch.NOT_NEXT_EPOCH);
    // a skipped epoch (2 while at 0) and a rollback (1 while at 2)
    PayloadKeyId keyId2 = PayloadKeyId.generate();
    OutputKeyEpoch.Signed two =
        share(2, PayloadKey.generate(), keyId2, keyId1, ctx1, List.of(daemon, opener, added))
            .sign(server);
    assertRefused(two, epoch0, 0, keyId0, OutputKeyEpoch.Mismatch.NOT_NEXT_EPOCH);
    assertRefused(one, ctx1, 2, keyId2, OutputKeyEpoch.Mismatch.NOT_NEXT_EPOCH);
    // the right number but retiring another key than the one held
    assertRefused(
        two, ctx1, 1, PayloadKeyId.generate(), OutputKeyEpoch.Mismatch.WRONG_PREVIOUS_KEY);
    // another session's document, correctly signed by the same machine
    KeyContext otherSession = new KeyContext("ws-1", "srv-1", "sess-2", epoch0.recipients());
    assertRefused(one, otherSession, 0, keyId0, OutputKeyEpoch.Mismatch.WRONG_SESSION);
    // a share only adds: a context that drops the opener is refused
    KeyContext dropped =
        new KeyContext(
            "ws-1",
            "srv-1",
            "sess-1",
            List.of(KeyId.of(daemon.publicKey()), KeyId.of(added.publicKey())));
    OutputKeyEpoch.Signed shrink =
        share(
                2,
                PayloadKey.generate(),
                PayloadKeyId.generate(),
                keyId1,
                dropped,
                List.of(daemon, added))
            .sign(server);
    assertRefused(shrink, ctx1, 1, keyId1, OutputKeyEpoch.Mismatch.RECIPIENT_DROPPED);
    assertThat(e1.epoch()).isEqualTo(1);
  }

  private void assertRefused(
      OutputKeyEpoch.Signed s,
      KeyContext current,
      long lastEpoch,
      PayloadKeyId held,
      OutputKeyEpoch.Mismatch why) {
    assertThatThrownBy(
            () ->
                OutputKeyEpoch.verifyNext(
                    s.canonicalJson(), s.signature(), server.publicKey(), current, lastEpoch, held))
        .isInstanceOfSatisfying(
            OutputKeyEpoch.NotNextException.class, x -> assertThat(x.mismatch()).isEqualTo(why));
  }

  @Test
  void aDocumentMustHaveExactlyItsMembersAndGrantExactlyItsRecipients() {
    Map<String, Object> good =
        share(
                1,
                PayloadKey.generate(),
                PayloadKeyId.generate(),
                keyId0,
                withAdded(),
                List.of(daemon, opener, added))
            .toJson();
    List<Map<String, Object>> bad = new ArrayList<>();
    for (String member : good.keySet()) {
      Map<String, Object> m = new LinkedHashMap<>(good);
      m.remove(member);
      bad.add(m);
    }
    bad.add(with(good, "reviewers", List.of()));
    bad.add(with(good, "epoch", 0L));
    bad.add(with(good, "epoch", OutputKeyEpoch.MAX_EPOCH + 1));
    bad.add(with(good, "type", "umbra-webtty-input-key/v2"));
    bad.add(with(good, "payload_suite", "chacha20-poly1305"));
    bad.add(with(good, "previous_output_key_id", good.get("output_key_id")));
    bad.add(with(good, "output_key_id", "AB".repeat(16)));
    // a context naming another session, a context string instead of an object, a recipient without
    // a grant
    @SuppressWarnings("unchecked")
    Map<String, Object> ctx = (Map<String, Object>) good.get("key_context");
    bad.add(with(good, "key_context", with(ctx, "session_id", "sess-2")));
    bad.add(
        with(good, "key_context", new String(CanonicalJson.encode(ctx), StandardCharsets.UTF_8)));
    List<Object> fourRecipients = new ArrayList<>((List<?>) ctx.get("recipients"));
    fourRecipients.add("ff".repeat(16));
    bad.add(with(good, "key_context", with(ctx, "recipients", fourRecipients)));
    List<Object> unsorted = new ArrayList<>((List<?>) ctx.get("recipients"));
    java.util.Collections.reverse(unsorted);
    bad.add(with(good, "key_context", with(ctx, "recipients", unsorted)));
    List<Object> twoGrants = new ArrayList<>((List<?>) good.get("grants"));
    twoGrants.remove(0);
    bad.add(with(good, "grants", twoGrants));
    for (Map<String, Object> m : bad) {
      byte[] json = CanonicalJson.encode(m);
      byte[] sig = server.privateKey().sign(json);
      assertThatThrownBy(() -> OutputKeyEpoch.verify(json, sig, server.publicKey()))
          .as(m.toString())
          .isInstanceOf(CryptoException.class)
          .isNotInstanceOf(AuthenticationFailedException.class);
    }
    byte[] spaced = " {}".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(
            () ->
                OutputKeyEpoch.verify(spaced, server.privateKey().sign(spaced), server.publicKey()))
        .isInstanceOf(MalformedInputException.class);
  }

  private static Map<String, Object> with(Map<String, Object> m, String k, Object v) {
    Map<String, Object> copy = new LinkedHashMap<>(m);
    copy.put(k, v);
    return copy;
  }
}
