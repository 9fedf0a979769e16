package dev.umbra.daemon.tty;

import com.google.protobuf.ByteString;
import dev.umbra.client.tty.Handshake;
import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.UnsupportedSuiteException;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyGrants;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.proto.webtty.WebTtyFrame;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Every check of a session's ClientProof (docs/webtty.md "Handshake"): its signature by the key it
 * names, this session's context and nonce, a validity window of at most 60 s that includes now, the
 * signer authorized on this daemon, grants of both keys for this machine, the input key for the
 * daemon and the opener only, and (Workspace Protection) every other output-key recipient a trusted
 * device vouched for in the proof. Only a proof passing all of them yields the session's keys; the
 * first failure names the refusal.
 */
final class ProofCheck {
  private final TtyServerConfig config;

  ProofCheck(TtyServerConfig config) {
    this.config = config;
  }

  /** A proof that passed, with the output and input keys granted to this machine. */
  record Accepted(Handshake.ClientProof proof, PayloadKey outputKey, PayloadKey inputKey) {}

  /** The outcome of a check: accepted, or refused with a reason (the wire's proof_refused_*). */
  record Outcome(Accepted accepted, String refusal) {
    static Outcome refused(String reason) {
      return new Outcome(null, reason);
    }
  }

  /** Checks the CLIENT_PROOF frame {@code f} of session {@code s}. */
  Outcome check(ServerSession s, WebTtyFrame f) {
    try {
      Handshake.ClientProof p = Handshake.verifyProof(f.getClientProof());
      String problem = problem(s, p, f);
      if (problem != null) {
        return Outcome.refused(problem);
      }
      PayloadKey outputKey =
          KeyGrants.unwrap(
              p.grantFor(config.agreementKey().publicKey(), KeyRole.OUTPUT),
              p.keyContext(),
              config.agreementKey());
      PayloadKey inputKey =
          KeyGrants.unwrap(
              p.grantFor(config.agreementKey().publicKey(), KeyRole.INPUT),
              p.keyContext(),
              config.agreementKey());
      return new Outcome(new Accepted(p, outputKey, inputKey), null);
    } catch (CryptoException | IllegalArgumentException e) {
      return Outcome.refused(
          e instanceof UnsupportedSuiteException
              ? "unknown_suite"
              : e instanceof AuthenticationFailedException ? "bad_signature" : "malformed");
    }
  }

  private String problem(ServerSession s, Handshake.ClientProof p, WebTtyFrame f) {
    long now = config.clock().millis();
    KeyContext kc = p.keyContext();
    if (!p.workspaceId().equals(config.workspaceId().toString())
        || !p.serverId().equals(config.serverId())
        || !p.sessionId().equals(s.id)
        || !kc.workspaceId().equals(p.workspaceId())
        || !kc.serverId().equals(p.serverId())
        || !kc.sessionId().equals(p.sessionId())) {
      return "wrong_context";
    }
    if (!Arrays.equals(p.serverNonce(), s.nonce)) {
      return "wrong_nonce";
    }
    long window = p.notAfterMs() - p.notBeforeMs();
    if (window <= 0 || window > Handshake.MAX_PROOF_WINDOW.toMillis()) {
      return "window_too_long";
    }
    if (now + Handshake.CLOCK_SKEW.toMillis() < p.notBeforeMs() || now > p.notAfterMs()) {
      return "expired";
    }
    String refusal =
        config.authorizer().refusal(config.workspaceId(), p.signingKey(), p.deviceCredential());
    if (refusal != null) {
      return refusal;
    }
    if (!kc.hasRecipient(ownKeyId())
        || p.grantFor(config.agreementKey().publicKey(), KeyRole.OUTPUT) == null
        || p.grantFor(config.agreementKey().publicKey(), KeyRole.INPUT) == null) {
      return "no_grant";
    }
    // the opener's input key is for the daemon and the opener only: a viewer must never hold a
    // key it could type (or read typed passwords) with
    Set<KeyId> inputHolders = new HashSet<>(p.inputRecipients());
    if (!inputHolders.equals(new HashSet<>(List.of(ownKeyId(), KeyId.of(p.agreementKey()))))
        || inputHolders.size() != p.inputRecipients().size()) {
      return "input_key_shared";
    }
    // under Workspace Protection every output-key recipient besides this server and the opener
    // must be a trusted device under this daemon's pin, vouched for in the proof: the control
    // plane (which lists devices and members to the opener) cannot add a recipient of its own
    Optional<Set<KeyId>> vouched =
        config.authorizer().vouchedRecipients(config.workspaceId(), p.recipientDevices());
    if (vouched.isPresent()) {
      KeyId opener = KeyId.of(p.agreementKey());
      for (KeyId r : kc.recipients()) {
        if (!r.equals(ownKeyId()) && !r.equals(opener) && !vouched.get().contains(r)) {
          return "unvouched_recipient";
        }
      }
    }
    if (!f.getKeyContext().equals(ByteString.copyFrom(kc.toCanonicalJson()))) {
      return "wrong_context";
    }
    return null;
  }

  private KeyId ownKeyId() {
    return KeyId.of(config.agreementKey().publicKey());
  }
}
