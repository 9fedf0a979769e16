package dev.umbra.crypto.messaging;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.InvalidStateException;
import dev.umbra.crypto.aead.AeadKey;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PrivateKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The responder's private prekeys, in memory and serializable so a device can keep them sealed at
 * rest ({@link #seal}/{@link #openSealed}, docs/messaging-crypto.md "Prekey secrets at rest").
 * Bounded: at most 16 signed prekeys, 10,000 one-time prekeys, 100,000 accepted ephemeral keys per
 * signed prekey (beyond that every further initial message under it is refused: rotate).
 */
public final class InMemoryPrekeySecrets implements PrekeySecrets {
  /** 16 signed, 10,000 one-time prekeys and 1.6 million seen keys fit in 64 MiB. */
  private static final int MAX_SEALED_LENGTH = 64 << 20;

  private final Map<Long, SignedPrekey> signed = new LinkedHashMap<>();
  private final Map<Long, OneTimePrekey> oneTime = new LinkedHashMap<>();
  private final Map<Long, Set<X25519PublicKey>> seen = new LinkedHashMap<>();

  public synchronized InMemoryPrekeySecrets addSignedPrekey(SignedPrekey spk) {
    if (!signed.containsKey(spk.id())
        && signed.size() >= CryptoConstants.MSG_MAX_SIGNED_PREKEYS_HELD) {
      throw new InvalidStateException("too many signed prekeys held: remove old ones first");
    }
    signed.put(spk.id(), spk);
    return this;
  }

  public synchronized InMemoryPrekeySecrets addOneTimePrekey(OneTimePrekey opk) {
    if (!oneTime.containsKey(opk.id())
        && oneTime.size() >= CryptoConstants.MSG_MAX_ONE_TIME_PREKEYS_HELD) {
      throw new InvalidStateException("too many one-time prekeys held");
    }
    oneTime.put(opk.id(), opk);
    return this;
  }

  /** Deletes a signed prekey (after its grace period) and the ephemeral keys seen under it. */
  public synchronized void removeSignedPrekey(long id) {
    signed.remove(id);
    seen.remove(id);
  }

  public synchronized int oneTimePrekeyCount() {
    return oneTime.size();
  }

  @Override
  public synchronized Optional<SignedPrekey> signedPrekey(long id) {
    return Optional.ofNullable(signed.get(id));
  }

  @Override
  public synchronized Optional<OneTimePrekey> oneTimePrekey(long id) {
    return Optional.ofNullable(oneTime.get(id));
  }

  @Override
  public synchronized void consumeOneTimePrekey(long id) {
    oneTime.remove(id);
  }

  @Override
  public synchronized boolean recordEphemeral(long signedPrekeyId, X25519PublicKey ephemeral) {
    Set<X25519PublicKey> s = seen.computeIfAbsent(signedPrekeyId, k -> new LinkedHashSet<>());
    if (s.size() >= CryptoConstants.MSG_MAX_SEEN_EPHEMERALS_PER_SIGNED_PREKEY) {
      return false;
    }
    return s.add(ephemeral);
  }

  /**
   * {@code u8 version (1) || u32 spk_count || (u32 id || u64 created_at || u64 expires_at ||
   * private (32)) each || u32 opk_count || (u32 id || private (32)) each || u32 seen_count || (u32
   * spk_id || ephemeral (32)) each}; every list in insertion order.
   */
  public synchronized byte[] toBytes() {
    Wire.Out out = new Wire.Out().u8(CryptoConstants.MSG_VERSION).u32(signed.size());
    for (SignedPrekey s : signed.values()) {
      out.u32(s.id())
          .u64(s.createdAt().getEpochSecond())
          .u64(s.expiresAt().getEpochSecond())
          .bytes(s.keyPair().privateKey().exportPrivateBytes());
    }
    out.u32(oneTime.size());
    for (OneTimePrekey o : oneTime.values()) {
      out.u32(o.id()).bytes(o.keyPair().privateKey().exportPrivateBytes());
    }
    out.u32(seen.values().stream().mapToInt(Set::size).sum());
    seen.forEach((id, keys) -> keys.forEach(k -> out.u32(id).bytes(k.toBytes())));
    return out.toBytes();
  }

  /**
   * Loads {@link #toBytes()}; refuses MALFORMED (structure, caps, duplicates) or UNKNOWN_VERSION.
   */
  public static InMemoryPrekeySecrets fromBytes(byte[] encoded) {
    Wire w = Wire.of(encoded, "prekey secrets");
    w.version();
    InMemoryPrekeySecrets p = new InMemoryPrekeySecrets();
    long spks = count(w, CryptoConstants.MSG_MAX_SIGNED_PREKEYS_HELD, "signed prekeys");
    for (long i = 0; i < spks; i++) {
      long id = w.u32();
      Instant created = Instant.ofEpochSecond(w.seconds());
      Instant expires = Instant.ofEpochSecond(w.seconds());
      X25519KeyPair pair = pair(w);
      try {
        unique(p.signed.put(id, new SignedPrekey(id, pair, created, expires)));
      } catch (IllegalArgumentException e) {
        throw Wire.malformed("signed prekey validity window out of range");
      }
    }
    long opks = count(w, CryptoConstants.MSG_MAX_ONE_TIME_PREKEYS_HELD, "one-time prekeys");
    for (long i = 0; i < opks; i++) {
      long id = w.u32();
      unique(p.oneTime.put(id, new OneTimePrekey(id, pair(w))));
    }
    long seen =
        count(
            w,
            (long) CryptoConstants.MSG_MAX_SEEN_EPHEMERALS_PER_SIGNED_PREKEY * spks,
            "seen keys");
    for (long i = 0; i < seen; i++) {
      long id = w.u32();
      if (!p.signed.containsKey(id)) {
        throw Wire.malformed("seen ephemeral key under a signed prekey not held");
      }
      if (!p.recordEphemeral(id, w.x25519())) {
        throw Wire.malformed("duplicate or excess seen ephemeral key");
      }
    }
    w.end("prekey secrets");
    return p;
  }

  /**
   * {@link #toBytes()} sealed like a session state ({@link SealedSessionState}) under {@code id}.
   */
  public byte[] seal(AeadKey storageKey, String id) {
    return SealedSessionState.seal(storageKey, id, toBytes());
  }

  public static InMemoryPrekeySecrets openSealed(AeadKey storageKey, String id, byte[] sealed) {
    return fromBytes(SealedSessionState.open(storageKey, id, sealed, MAX_SEALED_LENGTH));
  }

  private static long count(Wire w, long cap, String what) {
    long n = w.u32();
    if (n > cap) {
      throw Wire.malformed("too many " + what + ": " + n);
    }
    return n;
  }

  private static X25519KeyPair pair(Wire w) {
    return X25519KeyPair.fromPrivateKey(
        X25519PrivateKey.fromBytes(w.bytes(CryptoConstants.X25519_KEY_LENGTH)));
  }

  private static void unique(Object previous) {
    if (previous != null) {
      throw Wire.malformed("duplicate prekey id");
    }
  }
}
