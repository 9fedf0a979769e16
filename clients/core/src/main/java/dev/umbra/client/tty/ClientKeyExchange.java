package dev.umbra.client.tty;

import com.google.protobuf.ByteString;
import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.webtty.InputKeyGrant;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyGrant;
import dev.umbra.crypto.webtty.KeyGrants;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.OutputKeyEpoch;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * The client's side of the key exchange (docs/webtty.md "Handshake"): the opener makes the
 * session's keys and its signed ClientProof; a joiner takes its output key from the opener's signed
 * proof or from the latest daemon-signed output-key epoch, never from unsigned engine copies.
 */
final class ClientKeyExchange {
  private ClientKeyExchange() {}

  /**
   * The server's hello of a connection to {@code serverId} for session {@code sessionId}: signed by
   * the key it names, for this workspace, server and session, and that key and the agreement key
   * those the caller trusts for the server ({@link ServerTrust}: the workspace's record, the pins).
   */
  static Handshake.ServerHello trustedHello(
      SignedMessage signedHello, TtyClient.Options options, String serverId, String sessionId) {
    Handshake.ServerHello h = Handshake.verify(signedHello);
    if (!h.workspaceId().equals(options.workspaceId().toString())
        || !h.serverId().equals(serverId)
        || !h.sessionId().equals(sessionId)) {
      throw new AuthenticationFailedException(
          "ServerHello is for another workspace, server or session");
    }
    options.trust().check(options.workspaceId(), serverId, h.signingKey(), h.agreementKey());
    return h;
  }

  /**
   * What the opener made: the key context of every recipient (the server, itself, the extra
   * recipients, in that order), the output key for all of them, the input key (epoch 0) for the
   * server and itself only, and the CLIENT_PROOF frame granting them.
   */
  record Opened(
      KeyContext context,
      List<X25519PublicKey> recipients,
      PayloadKey outputKey,
      PayloadKeyId outputKeyId,
      PayloadKey inputKey,
      PayloadKeyId inputKeyId,
      WebTtyFrame proofFrame) {}

  /**
   * The opener's keys and signed proof for the verified hello {@code h} of session {@code
   * sessionId}.
   */
  static Opened open(
      TtyClient.Options options,
      String serverId,
      String sessionId,
      Handshake.ServerHello h,
      int cols,
      int rows,
      String term) {
    List<X25519PublicKey> recipients = new ArrayList<>();
    recipients.add(h.agreementKey());
    recipients.add(options.agreementKey().publicKey());
    for (X25519PublicKey r : options.extraRecipients()) {
      if (!recipients.contains(r)) {
        recipients.add(r);
      }
    }
    List<KeyId> ids = new ArrayList<>();
    for (X25519PublicKey r : recipients) {
      ids.add(KeyId.of(r));
    }
    KeyContext context = new KeyContext(options.workspaceId().toString(), serverId, sessionId, ids);
    // v2 split keys: the output key for every recipient, the input key (epoch 0) for the server and
    // us only
    PayloadKey outputKey = PayloadKey.generate();
    PayloadKeyId outputKeyId = PayloadKeyId.generate();
    PayloadKey inputKey = PayloadKey.generate();
    PayloadKeyId inputKeyId = PayloadKeyId.generate();
    List<KeyGrant> grants =
        new ArrayList<>(
            KeyGrants.wrapForAll(KeyRole.OUTPUT, outputKey, outputKeyId, context, recipients));
    grants.addAll(
        KeyGrants.wrapForAll(
            KeyRole.INPUT,
            inputKey,
            inputKeyId,
            context,
            List.of(h.agreementKey(), options.agreementKey().publicKey())));
    long now = options.clock().millis();
    Handshake.ClientProof proof =
        new Handshake.ClientProof(
            options.workspaceId().toString(),
            serverId,
            sessionId,
            h.nonce(),
            options.signingKey().publicKey(),
            options.agreementKey().publicKey(),
            cols,
            rows,
            term,
            context,
            outputKeyId,
            inputKeyId,
            grants,
            now,
            now + TtyClient.PROOF_WINDOW_MS,
            options.deviceCredential(),
            options.recipientDevices());
    WebTtyFrame.Builder out =
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_CLIENT_PROOF)
            .setSessionId(sessionId)
            .setClientProof(Handshake.sign(proof, options.signingKey()))
            .setKeyContext(ByteString.copyFrom(context.toCanonicalJson()))
            .setKeyId(ByteString.copyFrom(KeyId.of(options.agreementKey().publicKey()).toBytes()))
            .setPublicKey(ByteString.copyFrom(options.agreementKey().publicKey().toBytes()));
    for (KeyGrant g : grants) {
      out.addGrants(TtyFrames.toProto(g));
    }
    return new Opened(
        context, recipients, outputKey, outputKeyId, inputKey, inputKeyId, out.build());
  }

  /**
   * A joiner's output-key epoch after a share: the daemon-signed document (verified against the
   * pinned server key), for this workspace, server and session, granting {@code me} a key. A joiner
   * cannot check it is the latest (it saw none before); an older one would not open the output that
   * follows, which closes the connection.
   */
  static OutputKeyEpoch joinedEpoch(
      SignedMessage document,
      Ed25519PublicKey serverSigningKey,
      UUID workspaceId,
      String serverId,
      String sessionId,
      KeyId me) {
    OutputKeyEpoch e =
        OutputKeyEpoch.verify(
            document.getCanonicalJson().toByteArray(),
            document.getSignature().toByteArray(),
            serverSigningKey);
    if (!e.workspaceId().equals(workspaceId.toString())
        || !e.serverId().equals(serverId)
        || !e.sessionId().equals(sessionId)
        || e.grantFor(me) == null) {
      throw new AuthenticationFailedException(
          "output-key epoch is for another session or not granted to this key");
    }
    return e;
  }

  /**
   * The daemon's fresh input key after a control change: verified against the pinned server key
   * (the hello's, which the pin check accepted), for this workspace, server and session, addressed
   * to {@code me}, naming an output key this client held ({@code heldOutputKey}).
   */
  static InputKeyGrant inputKeyGrant(
      SignedMessage document,
      Ed25519PublicKey serverSigningKey,
      UUID workspaceId,
      String serverId,
      String sessionId,
      KeyId me,
      Predicate<PayloadKeyId> heldOutputKey) {
    InputKeyGrant g =
        InputKeyGrant.verify(
            document.getCanonicalJson().toByteArray(),
            document.getSignature().toByteArray(),
            serverSigningKey);
    if (!g.workspaceId().equals(workspaceId.toString())
        || !g.serverId().equals(serverId)
        || !g.sessionId().equals(sessionId)
        || !g.controllerKeyId().equals(me)
        || !heldOutputKey.test(g.outputKeyId())) {
      throw new AuthenticationFailedException("input key grant is for another session or key");
    }
    return g;
  }

  /**
   * The payload key from the opener's signed ClientProof (never from unsigned engine copies):
   * verifies the proof's signature and ids, finds the grant addressed to {@code me}, unwraps it.
   */
  static PayloadKey unwrapOwnGrant(
      SignedMessage signedProof,
      UUID workspaceId,
      String serverId,
      String sessionId,
      X25519KeyPair me,
      KeyRole role) {
    Handshake.ClientProof proof = Handshake.verifyProof(signedProof);
    if (!proof.workspaceId().equals(workspaceId.toString())
        || !proof.sessionId().equals(sessionId)
        || (serverId != null && !proof.serverId().equals(serverId))) {
      throw new AuthenticationFailedException(
          "ClientProof is for another workspace, server or session");
    }
    KeyGrant mine = proof.grantFor(me.publicKey(), role);
    if (mine == null) {
      throw new AuthenticationFailedException(
          "the session's " + role.wireName() + " key was not granted to this key");
    }
    return KeyGrants.unwrap(mine, proof.keyContext(), me);
  }
}
