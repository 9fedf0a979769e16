package dev.umbra.client.tty;

import dev.umbra.crypto.AuthenticationFailedException;
import dev.umbra.crypto.CryptoException;
import dev.umbra.crypto.keys.Ed25519PublicKey;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.webtty.KeyContext;
import dev.umbra.crypto.webtty.KeyGrant;
import dev.umbra.crypto.webtty.KeyGrants;
import dev.umbra.crypto.webtty.KeyId;
import dev.umbra.crypto.webtty.KeyRole;
import dev.umbra.crypto.webtty.OutputKeyEpoch;
import dev.umbra.crypto.webtty.PayloadCipher;
import dev.umbra.crypto.webtty.PayloadCounters;
import dev.umbra.crypto.webtty.PayloadKey;
import dev.umbra.crypto.webtty.PayloadKeyId;
import dev.umbra.crypto.webtty.SealedPayload;
import dev.umbra.proto.Wire;
import dev.umbra.proto.webtty.TtyStream;
import dev.umbra.proto.webtty.WebTtyFrame;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A session's output as a {@link TtyClient} reads it (docs/webtty.md "Receiver rules"): the current
 * output-key epoch, the server's key id as the only sender, the counters with their gap and repeat
 * reports, and every output key id held in the session (an input grant names one). Used on the
 * Vert.x context; the cipher and key are read by tests from other threads.
 */
final class OutputDecryptor {
  /**
   * What a signed OUTPUT_KEY document did: adopted, ignored as a replay, or refused (the connection
   * closes).
   */
  enum EpochOutcome {
    ADOPTED,
    REPLAYED,
    REFUSED
  }

  private final TtyStats stats;
  private final TtyClient.Listener listener;
  private volatile PayloadCipher cipher;
  private volatile PayloadKey key;
  private PayloadCounters counters;
  private KeyId server;

  /** The current output key's context and epoch (0: the opener's proof; each share adds one). */
  private KeyContext context;

  private long epoch;
  private final Set<PayloadKeyId> keyIds = ConcurrentHashMap.newKeySet();

  OutputDecryptor(TtyStats stats, TtyClient.Listener listener) {
    this.stats = stats;
    this.listener = listener;
  }

  /**
   * Reads output sent by {@code server} under {@code key} of epoch {@code epoch}, counters as
   * {@code counters} say (from zero for the opener; from the first seen for a joiner, which cannot
   * know how far the live session's counter is).
   */
  void start(
      KeyId server,
      PayloadCounters counters,
      PayloadKey key,
      PayloadKeyId keyId,
      KeyContext context,
      long epoch) {
    this.server = server;
    this.counters = counters;
    adopt(key, keyId, context, epoch);
  }

  private void adopt(PayloadKey key, PayloadKeyId keyId, KeyContext context, long epoch) {
    this.cipher = new PayloadCipher(KeyRole.OUTPUT, key, keyId, context);
    this.key = key;
    this.context = context;
    this.epoch = epoch;
    keyIds.add(keyId);
  }

  /** True once an output key is held. */
  boolean ready() {
    return cipher != null;
  }

  /**
   * Output, under the receiver rules: the server's key id as sender, a tag that verifies (else
   * {@link CryptoException}: the connection closes), then the counter: a repeat or a step back is
   * refused (counted, reported, not rendered); a gap is reported ("output gap: N frames missing")
   * and the output goes on.
   */
  void receive(WebTtyFrame f) {
    if (f.getStream() == TtyStream.TTY_STREAM_STDIN) {
      return; // the engine does not fan stdin out; ignore rather than render it
    }
    // the ciphertext is opened where it lies in the received frame, not copied out first
    SealedPayload p = TtyFrames.headerFromProto(f.getStream(), f.getSealed());
    if (!p.senderKeyId().equals(server)) {
      // output from anyone but the daemon (a recipient holding the output key, via the engine)
      throw new AuthenticationFailedException("output not sent by the server");
    }
    Wire.Slice ct = TtyFrames.ciphertext(f.getSealed());
    byte[] plain = cipher.open(p, ct.array(), ct.offset(), ct.length());
    PayloadCounters.Verdict v = counters.observe(p);
    if (v.kind() == PayloadCounters.Kind.REPEAT) {
      stats.count("output_refused_replayed");
      listener.integrity("output_repeat", p.counter());
      return;
    }
    if (v.kind() == PayloadCounters.Kind.GAP) {
      stats.count("output_gap");
      stats.add("output_frames_missing", v.missing());
      listener.integrity("output_gap", v.missing());
    }
    listener.output(plain);
  }

  /**
   * A share started output-key epoch n+1: the document must verify under the pinned server key,
   * name this session, be exactly the next epoch after ours, retire the key we hold and keep every
   * recipient (OutputKeyEpoch.requireNextOf). A document of an epoch we already passed (a replay or
   * a rollback by the engine) is ignored, counted {@code output_key_replayed}; anything else that
   * fails is refused. Then output is read under the new key, its counters from 0; output under a
   * retired key no longer opens.
   */
  EpochOutcome nextEpoch(
      WebTtyFrame f, Ed25519PublicKey serverSigningKey, String sessionId, X25519KeyPair me) {
    OutputKeyEpoch e;
    try {
      e =
          OutputKeyEpoch.verify(
              f.getOutputKeyEpoch().getCanonicalJson().toByteArray(),
              f.getOutputKeyEpoch().getSignature().toByteArray(),
              serverSigningKey);
      if (e.epoch() <= epoch && e.sessionId().equals(sessionId)) {
        stats.count("output_key_replayed");
        listener.integrity("output_key_replayed", e.epoch());
        return EpochOutcome.REPLAYED;
      }
      e.requireNextOf(context, epoch, cipher.keyId());
    } catch (CryptoException x) {
      return EpochOutcome.REFUSED;
    }
    KeyGrant mine = e.grantFor(KeyId.of(me.publicKey()));
    if (mine == null) {
      return EpochOutcome.REFUSED;
    }
    PayloadKey next = KeyGrants.unwrap(mine, e.keyContext(), me);
    counters = PayloadCounters.fromZero();
    adopt(next, e.outputKeyId(), e.keyContext(), e.epoch());
    return EpochOutcome.ADOPTED;
  }

  /** The current output key's context (null before the key exchange). */
  KeyContext context() {
    return context;
  }

  /** Whether {@code id} was an output key of this session while this client read it. */
  boolean held(PayloadKeyId id) {
    return keyIds.contains(id);
  }

  PayloadCipher cipher() {
    return cipher;
  }

  PayloadKey key() {
    return key;
  }
}
