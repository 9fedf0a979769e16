package dev.umbra.client.tty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.proto.webtty.SignedMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The opener's signed share request (docs/webtty.md "Adding a recipient to a live session"): the
 * daemon reads nothing of it before the signature by the opener's proof key verifies, and then only
 * exactly its members in canonical form. Replays are the daemon's per-session check
 * (TtyEndToEndTest).
 */
class ShareRequestTest {
  private final Ed25519KeyPair opener = Ed25519KeyPair.generate();
  private final List<X25519PublicKey> keys =
      List.of(X25519KeyPair.generate().publicKey(), X25519KeyPair.generate().publicKey());

  private Handshake.ShareRequest request() {
    return new Handshake.ShareRequest(
        "3f2c6a1e-0d7b-4c55-9a38-5b1f0e2d4c61",
        "srv-1",
        "01HF8Z",
        keys,
        List.of(),
        1_767_225_600_000L,
        1_767_225_630_000L);
  }

  @Test
  void aSignedRequestVerifiesOnlyUnderTheOpenersKeyAndRoundTrips() {
    SignedMessage m = Handshake.sign(request(), opener);
    Handshake.ShareRequest r = Handshake.verifyShare(m, opener.publicKey());
    assertThat(r).isEqualTo(request());
    assertThat(new String(m.getCanonicalJson().toByteArray(), StandardCharsets.UTF_8))
        .startsWith("{\"not_after_ms\":")
        .contains("\"type\":\"umbra-webtty-share/v2\"")
        .contains("\"recipient_devices\":[]");
    // a viewer or controller signing with its own key is not the opener
    assertThatThrownBy(
            () ->
                Handshake.verifyShare(
                    Handshake.sign(request(), Ed25519KeyPair.generate()), opener.publicKey()))
        .isInstanceOf(AuthenticationFailedException.class);
  }

  @Test
  void aDamagedTruncatedOrOversizedRequestIsRefused() {
    SignedMessage m = Handshake.sign(request(), opener);
    byte[] json = m.getCanonicalJson().toByteArray();
    for (int i = 0; i < json.length; i++) {
      byte[] flipped = json.clone();
      flipped[i] ^= 0x01;
      SignedMessage bad = m.toBuilder().setCanonicalJson(ByteString.copyFrom(flipped)).build();
      assertThatThrownBy(() -> Handshake.verifyShare(bad, opener.publicKey()))
          .as("bit flip at " + i)
          .isInstanceOf(CryptoException.class);
    }
    for (int n = 0; n < json.length; n++) {
      SignedMessage cut = m.toBuilder().setCanonicalJson(ByteString.copyFrom(json, 0, n)).build();
      assertThatThrownBy(() -> Handshake.verifyShare(cut, opener.publicKey()))
          .as("truncated to " + n)
          .isInstanceOf(CryptoException.class);
    }
    SignedMessage shortSig = m.toBuilder().setSignature(m.getSignature().substring(0, 63)).build();
    assertThatThrownBy(() -> Handshake.verifyShare(shortSig, opener.publicKey()))
        .isInstanceOf(MalformedInputException.class);
    byte[] big = new byte[16 * 1024 + 1];
    SignedMessage oversized =
        SignedMessage.newBuilder()
            .setCanonicalJson(ByteString.copyFrom(big))
            .setSignature(ByteString.copyFrom(opener.privateKey().sign(big)))
            .build();
    assertThatThrownBy(() -> Handshake.verifyShare(oversized, opener.publicKey()))
        .isInstanceOf(MalformedInputException.class);
  }

  @Test
  void aSignedRequestMustHaveExactlyItsMembersWithSortedKeys() {
    Map<String, Object> good = request().json();
    List<Map<String, Object>> bad = new ArrayList<>();
    for (String member : good.keySet()) {
      Map<String, Object> m = new LinkedHashMap<>(good);
      m.remove(member);
      bad.add(m);
    }
    Map<String, Object> extra = new LinkedHashMap<>(good);
    extra.put("epoch", 1L);
    bad.add(extra);
    Map<String, Object> v1 = new LinkedHashMap<>(good);
    v1.put("type", "umbra-webtty-share/v1");
    bad.add(v1);
    Map<String, Object> unsorted = new LinkedHashMap<>(good);
    List<Object> reversed = new ArrayList<>((List<?>) good.get("recipient_keys"));
    java.util.Collections.reverse(reversed);
    unsorted.put("recipient_keys", reversed);
    bad.add(unsorted);
    Map<String, Object> none = new LinkedHashMap<>(good);
    none.put("recipient_keys", List.of());
    bad.add(none);
    Map<String, Object> twice = new LinkedHashMap<>(good);
    twice.put("recipient_keys", List.of(keys.get(0).toHex(), keys.get(0).toHex()));
    bad.add(twice);
    for (Map<String, Object> m : bad) {
      byte[] json = CanonicalJson.encode(m);
      SignedMessage s =
          SignedMessage.newBuilder()
              .setCanonicalJson(ByteString.copyFrom(json))
              .setSignature(ByteString.copyFrom(opener.privateKey().sign(json)))
              .build();
      assertThatThrownBy(() -> Handshake.verifyShare(s, opener.publicKey()))
          .as(m.toString())
          .isInstanceOf(CryptoException.class)
          .isNotInstanceOf(AuthenticationFailedException.class);
    }
  }
}
