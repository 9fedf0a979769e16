package dev.umbra.client.tty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.MalformedInputException;
import dev.umbra.crypto.UnsupportedSuiteException;
import dev.umbra.crypto.json.CanonicalJson;
import dev.umbra.crypto.keys.Ed25519KeyPair;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyGrants;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.proto.webtty.SignedMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The signed ServerHello / ClientProof parsers against every kind of bad input. */
class HandshakeTest {
  final Ed25519KeyPair serverSign = Ed25519KeyPair.generate();
  final X25519KeyPair serverKx = X25519KeyPair.generate();
  final Ed25519KeyPair clientSign = Ed25519KeyPair.generate();
  final X25519KeyPair clientKx = X25519KeyPair.generate();

  SignedMessage hello() {
    return Handshake.sign(
        new Handshake.ServerHello(
            "w", "s", "sess", serverSign.publicKey(), serverKx.publicKey(), new byte[32], 1L),
        serverSign);
  }

  SignedMessage proof() {
    KeyContext ctx =
        new KeyContext(
            "w",
            "s",
            "sess",
            List.of(KeyId.of(serverKx.publicKey()), KeyId.of(clientKx.publicKey())));
    PayloadKeyId id = PayloadKeyId.generate();
    PayloadKeyId in = PayloadKeyId.generate();
    var grants =
        new ArrayList<>(
            KeyGrants.wrapForAll(
                KeyRole.OUTPUT,
                PayloadKey.generate(),
                id,
                ctx,
                List.of(serverKx.publicKey(), clientKx.publicKey())));
    grants.addAll(
        KeyGrants.wrapForAll(
            KeyRole.INPUT,
            PayloadKey.generate(),
            in,
            ctx,
            List.of(serverKx.publicKey(), clientKx.publicKey())));
    return Handshake.sign(
        new Handshake.ClientProof(
            "w",
            "s",
            "sess",
            new byte[32],
            clientSign.publicKey(),
            clientKx.publicKey(),
            80,
            24,
            "xterm",
            ctx,
            id,
            in,
            grants,
            1L,
            2L),
        clientSign);
  }

  static SignedMessage withJson(SignedMessage m, byte[] json) {
    return m.toBuilder().setCanonicalJson(ByteString.copyFrom(json)).build();
  }

  @Test
  void validDocumentsVerify() {
    assertThat(Handshake.verify(hello()).sessionId()).isEqualTo("sess");
    Handshake.ClientProof p = Handshake.verifyProof(proof());
    assertThat(p.grants()).hasSize(4);
    assertThat(p.grantFor(serverKx.publicKey(), KeyRole.OUTPUT)).isNotNull();
    assertThat(p.grantFor(serverKx.publicKey(), KeyRole.INPUT).payloadKeyId())
        .isEqualTo(p.inputKeyId());
    assertThat(p.inputRecipients())
        .containsExactlyInAnyOrder(KeyId.of(serverKx.publicKey()), KeyId.of(clientKx.publicKey()));
  }

  @Test
  void everyFlippedBitOfDocumentOrSignatureIsRefused() {
    List<String> accepted = new ArrayList<>();
    for (SignedMessage m : List.of(hello(), proof())) {
      byte[] json = m.getCanonicalJson().toByteArray();
      byte[] sig = m.getSignature().toByteArray();
      for (int i = 0; i < sig.length * 8; i++) {
        byte[] s = sig.clone();
        s[i / 8] ^= (byte) (1 << (i % 8));
        if (passes(m.toBuilder().setSignature(ByteString.copyFrom(s)).build())) {
          accepted.add("signature bit " + i);
        }
      }
      for (int i = 0; i < json.length * 8; i += 7) {
        byte[] j = json.clone();
        j[i / 8] ^= (byte) (1 << (i % 8));
        if (passes(withJson(m, j))) {
          accepted.add("document bit " + i);
        }
      }
    }
    assertThat(accepted).isEmpty();
  }

  @Test
  void truncatedEmptyOrNonCanonicalDocumentsAreMalformed() {
    for (SignedMessage m : List.of(hello(), proof())) {
      byte[] json = m.getCanonicalJson().toByteArray();
      assertThatThrownBy(() -> verifyAny(withJson(m, Arrays.copyOf(json, json.length / 2))))
          .isInstanceOf(CryptoException.class);
      assertThatThrownBy(() -> verifyAny(withJson(m, new byte[0])))
          .isInstanceOf(CryptoException.class);
      String spaced = new String(json, StandardCharsets.UTF_8).replaceFirst(",", ", ");
      assertThatThrownBy(() -> verifyAny(withJson(m, spaced.getBytes(StandardCharsets.UTF_8))))
          .isInstanceOf(MalformedInputException.class);
      assertThatThrownBy(() -> verifyAny(m.toBuilder().setSignature(ByteString.EMPTY).build()))
          .isInstanceOf(AuthenticationFailedException.class);
    }
    // a hello presented as a proof and the other way round
    assertThatThrownBy(() -> Handshake.verifyProof(hello()))
        .isInstanceOf(MalformedInputException.class);
    assertThatThrownBy(() -> Handshake.verify(proof())).isInstanceOf(MalformedInputException.class);
  }

  @Test
  @SuppressWarnings("unchecked")
  void aHelloWithAnotherSuiteOrWithoutE2eIsRefusedEvenWhenSigned() {
    Map<String, Object> j =
        (Map<String, Object>) CanonicalJson.parse(hello().getCanonicalJson().toByteArray());
    Map<String, Object> other = new LinkedHashMap<>(j);
    other.put("payload_suites", List.of("chacha20-poly1305"));
    assertThatThrownBy(() -> Handshake.verify(signed(other)))
        .isInstanceOf(UnsupportedSuiteException.class);
    Map<String, Object> two = new LinkedHashMap<>(j);
    two.put("payload_suites", List.of("aes-256-gcm", "none"));
    assertThatThrownBy(() -> Handshake.verify(signed(two)))
        .isInstanceOf(MalformedInputException.class);
    Map<String, Object> plain = new LinkedHashMap<>(j);
    plain.put("e2e", false);
    assertThatThrownBy(() -> Handshake.verify(signed(plain)))
        .isInstanceOf(AuthenticationFailedException.class);
  }

  SignedMessage signed(Map<String, Object> json) {
    return SignedMessage.newBuilder()
        .setCanonicalJson(ByteString.copyFrom(CanonicalJson.encode(json)))
        .setSignature(ByteString.copyFrom(serverSign.privateKey().sign(CanonicalJson.encode(json))))
        .build();
  }

  static void verifyAny(SignedMessage m) {
    String type = new String(m.getCanonicalJson().toByteArray(), StandardCharsets.UTF_8);
    if (type.contains("client-proof")) {
      Handshake.verifyProof(m);
    } else {
      Handshake.verify(m);
    }
  }

  static boolean passes(SignedMessage m) {
    try {
      verifyAny(m);
      return true;
    } catch (CryptoException | IllegalArgumentException e) {
      return false;
    }
  }

  @Test
  void theDeviceCredentialTravelsInsideTheSignedProofAndCannotBeSwapped() {
    KeyContext ctx = new KeyContext("w", "s", "sess", List.of(KeyId.of(serverKx.publicKey())));
    PayloadKeyId id = PayloadKeyId.generate();
    var grants =
        KeyGrants.wrapForAll(
            KeyRole.OUTPUT, PayloadKey.generate(), id, ctx, List.of(serverKx.publicKey()));
    Ed25519KeyPair workspace = Ed25519KeyPair.generate();
    dev.umbra.crypto.sign.Signed cred =
        dev.umbra.crypto.sign.Signed.sign(
            Map.of("type", "umbra-device-credential/v1", "n", 1L), workspace.privateKey());
    dev.umbra.crypto.sign.Signed other =
        dev.umbra.crypto.sign.Signed.sign(
            Map.of("type", "umbra-device-credential/v1", "n", 2L), workspace.privateKey());
    SignedMessage m =
        Handshake.sign(
            new Handshake.ClientProof(
                "w",
                "s",
                "sess",
                new byte[32],
                clientSign.publicKey(),
                clientKx.publicKey(),
                80,
                24,
                "xterm",
                ctx,
                id,
                PayloadKeyId.generate(),
                grants,
                1L,
                2L,
                cred),
            clientSign);
    assertThat(Handshake.verifyProof(m).deviceCredential()).isEqualTo(cred);
    assertThat(Handshake.verifyProof(proof()).deviceCredential())
        .as("older proofs have none")
        .isNull();
    // the engine (or anyone on the path) swapping the credential breaks the client's signature
    String swapped =
        m.getCanonicalJson()
            .toStringUtf8()
            .replace(
                java.util.HexFormat.of().formatHex(cred.signature()),
                java.util.HexFormat.of().formatHex(other.signature()));
    assertThatThrownBy(
            () -> Handshake.verifyProof(withJson(m, swapped.getBytes(StandardCharsets.UTF_8))))
        .isInstanceOf(AuthenticationFailedException.class);
  }
}
