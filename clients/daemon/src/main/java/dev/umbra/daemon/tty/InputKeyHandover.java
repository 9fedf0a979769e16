package dev.umbra.daemon.tty;

import com.google.protobuf.ByteString;
import dev.umbra.client.tty.Handshake;
import dev.umbra.client.tty.TtyFrames;
import dev.umbra.client.tty.TtyStats;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.webtty.InputKeyGrant;
import dev.umbra.crypto.webtty.KeyGrant;
import dev.umbra.crypto.webtty.KeyGrants;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadCounters;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Input keys after the opener's (docs/webtty.md "Control"): a fresh one for each new controller,
 * and the grants of every input key to the reviewers the machine's signed policy names, each in a
 * daemon-signed INPUT_KEY document the engine records. Runs on the Vert.x context.
 */
final class InputKeyHandover {
  private static final Logger log = LoggerFactory.getLogger(InputKeyHandover.class);

  private final TtyServerConfig config;
  private final TtyStats stats;
  private final SessionLink link;

  /**
   * The X25519 keys of the reviewers the machine's verified policy names (each vouched for under
   * the pin by {@code TtyPolicyPin}): every input key is wrapped to them too.
   */
  private volatile List<X25519PublicKey> reviewers = List.of();

  InputKeyHandover(TtyServerConfig config, TtyStats stats, SessionLink link) {
    this.config = config;
    this.stats = stats;
    this.link = link;
  }

  /** From the policy: the reviewers' X25519 keys (empty: none). */
  void updateReviewers(List<X25519PublicKey> keys) {
    reviewers = List.copyOf(keys);
  }

  /**
   * The engine says who controls now. Whatever follows, the previous input key is retired (its
   * stdin is refused from now on). If someone controls, and the opener's signed key context names
   * their X25519 key, the daemon makes a fresh input key, wraps it for them and for itself (and for
   * {@link #inputKeyReviewers}), signs the grant with the binding key and sends it as INPUT_KEY;
   * the new controller verifies it against its pin before typing with it. A key the opener did not
   * grant gets nothing: nobody types until the next change.
   */
  void controlChanged(ServerSession s, WebTtyFrame f) {
    s.input.retire();
    if (f.getPublicKey().isEmpty()) {
      stats.count("control_released");
      return;
    }
    X25519PublicKey key;
    try {
      key = X25519PublicKey.fromBytes(f.getPublicKey().toByteArray());
    } catch (CryptoException e) {
      stats.count("control_refused_malformed");
      return;
    }
    KeyId id = KeyId.of(key);
    // input keys are bound to the opener's key context (epoch 0): only its recipients can be
    // granted one (a device a share added later watches but cannot be given a key to type with)
    if (!s.context.hasRecipient(id)
        || id.equals(ownKeyId())
        || (!f.getKeyId().isEmpty() && !Arrays.equals(f.getKeyId().toByteArray(), id.toBytes()))) {
      stats.count("control_refused_not_recipient");
      log.warn(
          "WebTTY session {}: control given to a key the opener did not grant; nobody may type",
          s.id);
      return;
    }
    if (s.input.retiredKeys() >= PayloadCounters.MAX_STREAMS / 2) {
      link.end(s, WebTtyReason.WEBTTY_REASON_TOO_MANY_HANDOVERS);
      return;
    }
    PayloadKey inputKey = PayloadKey.generate();
    PayloadKeyId inputKeyId = PayloadKeyId.generate();
    List<X25519PublicKey> holders =
        new ArrayList<>(List.of(key, config.agreementKey().publicKey()));
    inputKeyReviewers(s).stream().filter(k -> !holders.contains(k)).forEach(holders::add);
    InputKeyGrant grant =
        new InputKeyGrant(
            config.workspaceId().toString(),
            config.serverId(),
            s.id,
            s.input.nextEpoch(),
            id,
            inputKeyId,
            s.outputKeyId,
            KeyGrants.wrapForAll(KeyRole.INPUT, inputKey, inputKeyId, s.context, holders),
            config.clock().millis());
    s.input.grant(new PayloadCipher(KeyRole.INPUT, inputKey, inputKeyId, s.context), id);
    link.send(inputKeyFrame(s, f.getParticipantId(), grant));
    stats.count("input_keys_issued");
  }

  /**
   * The reviewers the machine's signed policy names (docs/webtty.md "Reviewers"): they get every
   * fresh input key, so their exports read stdin. Their keys were vouched for under the pin when
   * the policy was verified (a policy naming anyone else is refused, {@code unvouched_reviewer}).
   */
  private List<X25519PublicKey> inputKeyReviewers(ServerSession s) {
    List<X25519PublicKey> out = new ArrayList<>();
    for (X25519PublicKey k : reviewers) {
      // input keys are bound to the opener's key context: a reviewer it does not list cannot be
      // granted one (an opener that did not add the policy's reviewers); counted, the session goes
      // on
      if (s.context.hasRecipient(KeyId.of(k))) {
        out.add(k);
      } else {
        stats.count("reviewer_not_recipient");
      }
    }
    return out;
  }

  /**
   * The opener's own input key (epoch 0, granted in its proof to this daemon and the opener only)
   * re-wrapped for the reviewers in a daemon-signed input key grant of epoch 0, to be sent just
   * before READY to no participant: the engine records it (kind 4) and a reviewer's export reads
   * the opener's stdin with it. Null when the policy names no reviewer (or it could not be made).
   */
  WebTtyFrame openersInputKeyForReviewers(
      ServerSession s, Handshake.ClientProof p, PayloadKey inputKey) {
    List<X25519PublicKey> keys = inputKeyReviewers(s);
    if (keys.isEmpty()) {
      return null;
    }
    // the opener (who made the key; a grant names its controller among the holders), this daemon,
    // the reviewers
    List<X25519PublicKey> holders =
        new ArrayList<>(List.of(p.agreementKey(), config.agreementKey().publicKey()));
    keys.stream().filter(k -> !holders.contains(k)).forEach(holders::add);
    try {
      InputKeyGrant grant =
          new InputKeyGrant(
              config.workspaceId().toString(),
              config.serverId(),
              s.id,
              0,
              KeyId.of(p.agreementKey()),
              p.inputKeyId(),
              p.outputKeyId(),
              KeyGrants.wrapForAll(KeyRole.INPUT, inputKey, p.inputKeyId(), s.context, holders),
              config.clock().millis());
      return inputKeyFrame(s, "", grant);
    } catch (RuntimeException e) {
      // never in the way of the session: the reviewers then cannot read this stdin, and it is
      // counted
      stats.count("reviewer_input_key_failed");
      log.warn(
          "WebTTY session {}: the reviewers' grant of the opener's input key was not made ({})",
          s.id,
          e.getClass().getSimpleName());
      return null;
    }
  }

  private WebTtyFrame inputKeyFrame(ServerSession s, String participantId, InputKeyGrant grant) {
    InputKeyGrant.Signed signed = grant.sign(config.signingKey());
    WebTtyFrame.Builder out =
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_INPUT_KEY)
            .setSessionId(s.id)
            .setParticipantId(participantId)
            .setInputKeyGrant(
                SignedMessage.newBuilder()
                    .setCanonicalJson(ByteString.copyFrom(signed.canonicalJson()))
                    .setSignature(ByteString.copyFrom(signed.signature())));
    for (KeyGrant g : grant.grants()) {
      out.addGrants(TtyFrames.toProto(g));
    }
    return out.build();
  }

  private KeyId ownKeyId() {
    return KeyId.of(config.agreementKey().publicKey());
  }
}
