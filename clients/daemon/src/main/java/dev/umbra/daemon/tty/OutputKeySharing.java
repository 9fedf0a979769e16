package dev.umbra.daemon.tty;

import com.google.protobuf.ByteString;
import dev.umbra.client.trust.TrustModel;
import dev.umbra.client.tty.Handshake;
import dev.umbra.client.tty.TtyFrames;
import dev.umbra.client.tty.TtyStats;
import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyGrant;
import dev.umbra.crypto.webtty.KeyGrants;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.OutputKeyEpoch;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.crypto.webtty.PayloadSender;
import dev.umbra.proto.webtty.JoinPolicy;
import dev.umbra.proto.webtty.ServerPolicy;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.WebTtyFrame;
import dev.umbra.proto.webtty.WebTtyFrameType;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.proto.webtty.WebTtyReasons;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Output-key epochs (docs/webtty.md "Adding a recipient to a live session"): which share requests
 * are accepted, and the fresh output key each accepted one starts, granted to every recipient in a
 * document signed with the binding key. Also remembers the recipients' X25519 keys a later share
 * needs. Runs on the Vert.x context, except the key switch itself (see {@link #share}).
 */
final class OutputKeySharing {
  private static final Logger log = LoggerFactory.getLogger(OutputKeySharing.class);

  private final TtyServerConfig config;
  private final TtyStats stats;
  private final SessionLink link;
  private final Supplier<ServerPolicy> policy;

  OutputKeySharing(
      TtyServerConfig config, TtyStats stats, SessionLink link, Supplier<ServerPolicy> policy) {
    this.config = config;
    this.stats = stats;
    this.link = link;
    this.policy = policy;
  }

  /**
   * The opener adds recipients to its live session: the request must be signed by the key that
   * signed the opener's proof (or by the controller's device, {@link #verifiedShare}), be for this
   * session, fresh and newer than the last one, keep every current recipient and add at least one,
   * the policy must let someone join, and under Workspace Protection each added key must be a
   * device vouched for under this daemon's pin. Then output-key epoch n+1: a fresh output key under
   * a key context with every recipient, granted to each, in a document signed with the binding key;
   * output after it is sealed under the new key from counter 0.
   */
  void share(ServerSession s, WebTtyFrame f) {
    Handshake.ShareRequest r;
    try {
      r = verifiedShare(s, f.getShareRequest());
    } catch (ShareRefused e) {
      refuseShare(s, f, e.reason);
      return;
    } catch (CryptoException | IllegalArgumentException e) {
      refuseShare(s, f, WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_INVALID);
      return;
    }
    long now = config.clock().millis();
    // the new context: every current recipient (the daemon must know each one's key, from the
    // request or from what it was shown before) and the request's keys
    Map<KeyId, X25519PublicKey> next = new LinkedHashMap<>();
    for (KeyId id : s.outputContext.recipients()) {
      next.put(id, s.recipientKeys.get(id));
    }
    for (X25519PublicKey k : r.recipientKeys()) {
      next.put(KeyId.of(k), k);
    }
    Set<KeyId> added = new HashSet<>(next.keySet());
    added.removeAll(s.outputContext.recipients());
    WebTtyReason refusal = refusal(s, r, now, next, added);
    if (refusal != null) {
      refuseShare(s, f, refusal);
      return;
    }
    s.lastShareNotBefore = r.notBeforeMs();
    r.recipientKeys().forEach(s::rememberKey);
    startEpoch(s, next, now);
    log.info(
        "WebTTY session {}: output-key epoch {} ({} recipient(s) added)",
        s.id,
        s.outputEpoch,
        added.size());
  }

  /**
   * Why the verified request {@code r} for the recipients {@code next} is refused; null when it is
   * accepted.
   */
  private WebTtyReason refusal(
      ServerSession s,
      Handshake.ShareRequest r,
      long now,
      Map<KeyId, X25519PublicKey> next,
      Set<KeyId> added) {
    long window = r.notAfterMs() - r.notBeforeMs();
    if (!r.workspaceId().equals(config.workspaceId().toString())
        || !r.serverId().equals(config.serverId())
        || !r.sessionId().equals(s.id)
        || window <= 0
        || window > Handshake.MAX_PROOF_WINDOW.toMillis()
        || now + Handshake.CLOCK_SKEW.toMillis() < r.notBeforeMs()
        || now > r.notAfterMs()) {
      return WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_INVALID;
    }
    if (r.notBeforeMs() <= s.lastShareNotBefore) {
      return WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_REPLAYED;
    }
    JoinPolicy join = policy.get().getJoin();
    if (join == JoinPolicy.JOIN_POLICY_NOBODY || join == JoinPolicy.JOIN_POLICY_UNSPECIFIED) {
      return WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_POLICY;
    }
    if (next.containsValue(null) || added.isEmpty()) {
      return WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_INVALID;
    }
    if (next.size() > OutputKeyEpoch.MAX_GRANTS || s.outputEpoch >= OutputKeyEpoch.MAX_EPOCH) {
      return WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_LIMIT;
    }
    Optional<Set<KeyId>> vouched =
        config.authorizer().vouchedRecipients(config.workspaceId(), r.recipientDevices());
    if (vouched.isPresent() && !vouched.get().containsAll(added)) {
      return WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_UNVOUCHED_RECIPIENT;
    }
    return null;
  }

  /**
   * Output-key epoch n+1 for the recipients {@code next}: made, signed, and switched to behind the
   * output already queued.
   */
  private void startEpoch(ServerSession s, Map<KeyId, X25519PublicKey> next, long now) {
    List<KeyId> ids = new ArrayList<>(next.keySet());
    List<X25519PublicKey> holders = new ArrayList<>(next.values());
    KeyContext nextContext =
        new KeyContext(config.workspaceId().toString(), config.serverId(), s.id, ids);
    PayloadKey key = PayloadKey.generate();
    PayloadKeyId keyId = PayloadKeyId.generate();
    OutputKeyEpoch epoch =
        new OutputKeyEpoch(
            config.workspaceId().toString(),
            config.serverId(),
            s.id,
            s.outputEpoch + 1,
            keyId,
            s.outputKeyId,
            nextContext,
            KeyGrants.wrapForAll(KeyRole.OUTPUT, key, keyId, nextContext, holders),
            now);
    OutputKeyEpoch.Signed signed = epoch.sign(config.signingKey());
    WebTtyFrame.Builder out =
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_OUTPUT_KEY)
            .setSessionId(s.id)
            .setKeyContext(ByteString.copyFrom(nextContext.toCanonicalJson()))
            .setOutputKeyEpoch(
                SignedMessage.newBuilder()
                    .setCanonicalJson(ByteString.copyFrom(signed.canonicalJson()))
                    .setSignature(ByteString.copyFrom(signed.signature())));
    for (KeyGrant g : epoch.grants()) {
      out.addGrants(TtyFrames.toProto(g));
    }
    WebTtyFrame frame = out.build();
    s.outputEpoch = epoch.epoch();
    s.outputContext = nextContext;
    PayloadSender sender =
        new PayloadSender(
            new PayloadCipher(KeyRole.OUTPUT, key, keyId, nextContext),
            KeyId.of(config.agreementKey().publicKey()));
    // switched and queued off the event loop, under the lock the PTY reader seals under: a write
    // from this (event-loop) thread would go out at once, ahead of output frames the reader has
    // queued under the old key; from another thread it queues behind them, in lock order
    Thread.ofPlatform()
        .daemon()
        .name("tty-share")
        .start(
            () -> {
              synchronized (s.outputLock) {
                s.output = sender;
                s.outputKeyId = keyId;
                s.lastOutputKey = frame;
                link.send(frame);
              }
            });
    stats.count("output_keys_issued");
  }

  /** A share refused before its content is read (who signed it). */
  private static final class ShareRefused extends Exception {
    final WebTtyReason reason;

    ShareRefused(WebTtyReason reason) {
      super(reason.name(), null, false, false);
      this.reason = reason;
    }
  }

  /**
   * Who may share: a request signed by the key that signed the opener's proof (the opener, also
   * re-attached), or, under this daemon's pinned keyset, one whose {@code sharer} is a trusted
   * device (credential valid under the pin, signed by its own key) whose WebTTY key binding names
   * the current controller's X25519 key — the one this daemon issued the current input key to — and
   * whose key signed the request. Without a pin only the opener shares (nothing ties a controller's
   * signing key to its X25519 key).
   */
  private Handshake.ShareRequest verifiedShare(ServerSession s, SignedMessage m)
      throws ShareRefused {
    try {
      return Handshake.verifyShare(m, s.clientKey);
    } catch (AuthenticationFailedException notOpener) {
      Handshake.RecipientDevice sharer = Handshake.shareSharer(m);
      Optional<Set<KeyId>> vouched =
          sharer == null
              ? Optional.empty()
              : config.authorizer().vouchedRecipients(config.workspaceId(), List.of(sharer));
      if (vouched.isEmpty() && config.authorizer().pinnedKeysetVersion() == 0) {
        throw new ShareRefused(WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_NOT_OPENER);
      }
      KeyId controller = s.input.controller();
      if (sharer == null || controller == null || !vouched.orElse(Set.of()).contains(controller)) {
        throw new ShareRefused(WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_NOT_CONTROLLER);
      }
      Ed25519PublicKey key = TrustModel.Credential.of(sharer.credential()).keys().signingKey();
      if (config.authorizer().refusal(config.workspaceId(), key, sharer.credential()) != null) {
        throw new ShareRefused(WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_NOT_CONTROLLER);
      }
      try {
        return Handshake.verifyShare(m, key);
      } catch (AuthenticationFailedException e) {
        throw new ShareRefused(WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_NOT_CONTROLLER);
      }
    }
  }

  /**
   * The WebTTY keys of the devices vouched for under the pin (Workspace Protection), remembered for
   * later shares.
   */
  void rememberVouchedKeys(ServerSession s, List<Handshake.RecipientDevice> devices) {
    if (devices.isEmpty()) {
      return;
    }
    Set<KeyId> vouched =
        config.authorizer().vouchedRecipients(config.workspaceId(), devices).orElse(Set.of());
    for (Handshake.RecipientDevice d : devices) {
      try {
        X25519PublicKey k = TrustModel.DeviceWebTtyKey.of(d.webttyKey()).key();
        if (vouched.contains(KeyId.of(k))) {
          s.rememberKey(k);
        }
      } catch (CryptoException | IllegalArgumentException e) {
        // not vouched for: not a key to wrap to
      }
    }
  }

  private void refuseShare(ServerSession s, WebTtyFrame f, WebTtyReason reason) {
    String wire = WebTtyReasons.wire(reason);
    stats.count(wire);
    log.warn("WebTTY session {}: share refused ({})", s.id, wire);
    link.send(
        WebTtyFrame.newBuilder()
            .setType(WebTtyFrameType.WEBTTY_FRAME_TYPE_REFUSED)
            .setSessionId(s.id)
            .setParticipantId(f.getParticipantId())
            .setReason(wire)
            .build());
  }
}
