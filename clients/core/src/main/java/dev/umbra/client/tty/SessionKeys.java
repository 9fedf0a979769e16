package dev.umbra.client.tty;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.webtty.InputKeyGrant;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyGrants;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.OutputKeyEpoch;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadCounters;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadSender;
import dev.umbra.proto.webtty.WebTtyFrame;

/**
 * The keys of one {@link TtyClient} connection (docs/webtty.md "Handshake"): the pinned server
 * signing key every later daemon-signed document is checked with, the opener's key context input
 * keys are bound to, and the steps that start or change the output and input ciphers. Each step
 * verifies what it is given before anything changes (a failure throws, and the client closes).
 */
final class SessionKeys {
  private final TtyClient.Options options;
  private final OutputDecryptor outputs;
  private final InputSealer inputs;
  private final ShareRequests shares;
  private Ed25519PublicKey serverSigningKey;

  /** The opener's key context: input keys are bound to it. */
  private KeyContext context;

  SessionKeys(
      TtyClient.Options options,
      OutputDecryptor outputs,
      InputSealer inputs,
      ShareRequests shares) {
    this.options = options;
    this.outputs = outputs;
    this.inputs = inputs;
    this.shares = shares;
  }

  /** The pinned server key the verified hello named (null before it). */
  Ed25519PublicKey serverSigningKey() {
    return serverSigningKey;
  }

  /** True once the hello was verified and the key context known (input keys may arrive). */
  boolean exchanged() {
    return serverSigningKey != null && context != null;
  }

  /** True once the output cipher runs under a verified server key (output keys may change). */
  boolean outputStarted() {
    return serverSigningKey != null && outputs.context() != null;
  }

  /**
   * The opener, after the verified hello {@code h}: makes the session's keys, starts the output
   * cipher and its own input sender (epoch 0); returns the CLIENT_PROOF frame to send.
   */
  WebTtyFrame opened(
      Handshake.ServerHello h, String serverId, String sessionId, int cols, int rows, String term) {
    ClientKeyExchange.Opened keys =
        ClientKeyExchange.open(options, serverId, sessionId, h, cols, rows, term);
    context = keys.context();
    serverSigningKey = h.signingKey();
    outputs.start(
        KeyId.of(h.agreementKey()),
        PayloadCounters.fromZero(),
        keys.outputKey(),
        keys.outputKeyId(),
        context,
        0);
    shares.opened(keys.recipients().subList(1, keys.recipients().size()));
    inputs.opened(
        new PayloadSender(
            new PayloadCipher(KeyRole.INPUT, keys.inputKey(), keys.inputKeyId(), context),
            ownKeyId()));
    return keys.proofFrame();
  }

  /**
   * A joiner or re-attached opener, after the verified hello {@code h}: checks the opener's signed
   * proof in the JOINED frame {@code f} and starts the output cipher with the key granted to us.
   */
  void joined(Handshake.ServerHello h, WebTtyFrame f, String serverId, String sessionId) {
    Handshake.ClientProof proof = Handshake.verifyProof(f.getClientProof());
    if (!proof.workspaceId().equals(options.workspaceId().toString())
        || !proof.sessionId().equals(sessionId)
        || !proof.serverId().equals(serverId)) {
      throw new AuthenticationFailedException(
          "ClientProof is for another workspace, server or session");
    }
    context = proof.keyContext();
    serverSigningKey = h.signingKey();
    // a joiner cannot know how far the live session's output counter is: it starts where it joins
    PayloadCounters counters = PayloadCounters.fromFirstSeen();
    if (f.hasOutputKeyEpoch()) {
      // after a share: the grant is in the latest daemon-signed output-key epoch, not in the proof
      OutputKeyEpoch e =
          ClientKeyExchange.joinedEpoch(
              f.getOutputKeyEpoch(),
              serverSigningKey,
              options.workspaceId(),
              serverId,
              sessionId,
              ownKeyId());
      PayloadKey key =
          KeyGrants.unwrap(e.grantFor(ownKeyId()), e.keyContext(), options.agreementKey());
      outputs.start(
          KeyId.of(h.agreementKey()), counters, key, e.outputKeyId(), e.keyContext(), e.epoch());
    } else {
      PayloadKey key =
          ClientKeyExchange.unwrapOwnGrant(
              f.getClientProof(),
              options.workspaceId(),
              serverId,
              sessionId,
              options.agreementKey(),
              KeyRole.OUTPUT);
      outputs.start(
          KeyId.of(h.agreementKey()), counters, key, proof.outputKeyId(), proof.keyContext(), 0);
    }
  }

  /**
   * The daemon's fresh input key after a control change: verified against the pinned server key
   * (the hello's, which the pin check accepted), for this session, addressed to us, with a newer
   * epoch than any seen; only then do we type with it. False when it is not newer (a replay).
   */
  boolean inputKey(WebTtyFrame f, String serverId, String sessionId) {
    InputKeyGrant g =
        ClientKeyExchange.inputKeyGrant(
            f.getInputKeyGrant(),
            serverSigningKey,
            options.workspaceId(),
            serverId,
            sessionId,
            ownKeyId(),
            outputs::held);
    if (g.epoch() <= inputs.epoch()) {
      return false;
    }
    PayloadKey key = KeyGrants.unwrap(g.grantFor(ownKeyId()), context, options.agreementKey());
    inputs.keyArrived(
        g.epoch(),
        new PayloadSender(
            new PayloadCipher(KeyRole.INPUT, key, g.inputKeyId(), context), ownKeyId()));
    return true;
  }

  /** A share's output-key epoch n+1 ({@link OutputDecryptor#nextEpoch}). */
  OutputDecryptor.EpochOutcome outputKey(WebTtyFrame f, String sessionId) {
    OutputDecryptor.EpochOutcome outcome =
        outputs.nextEpoch(f, serverSigningKey, sessionId, options.agreementKey());
    if (outcome == OutputDecryptor.EpochOutcome.ADOPTED) {
      shares.epochArrived(outputs.context());
    }
    return outcome;
  }

  private KeyId ownKeyId() {
    return KeyId.of(options.agreementKey().publicKey());
  }
}
