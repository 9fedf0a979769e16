package dev.umbra.crypto.messaging;

import dev.umbra.crypto.CryptoConstants;
import dev.umbra.crypto.keys.X25519KeyPair;
import dev.umbra.crypto.keys.X25519PrivateKey;
import dev.umbra.crypto.keys.X25519PublicKey;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The mutable Double Ratchet state of one session (Signal's spec, section 3.2) and its exact
 * serialization (docs/messaging-crypto.md, "Session state"). Not thread-safe; {@link
 * RatchetSession} guards it and works on {@link #copy()}s.
 */
final class RatchetState {
  static final int KEY = 32;

  record SkippedId(X25519PublicKey dh, long n) {}

  record Skipped(byte[] mk, long createdAt) {}

  SessionAd ad;
  byte[] rk;
  X25519KeyPair dhs;
  X25519PublicKey dhr;
  byte[] cks;
  byte[] ckr;
  long ns;
  long nr;
  long pn;
  final ArrayDeque<X25519PublicKey> retired = new ArrayDeque<>();
  final LinkedHashMap<SkippedId, Skipped> skipped = new LinkedHashMap<>();

  RatchetState(SessionAd ad, byte[] rk, X25519KeyPair dhs, X25519PublicKey dhr, byte[] cks) {
    this.ad = ad;
    this.rk = rk;
    this.dhs = dhs;
    this.dhr = dhr;
    this.cks = cks;
  }

  RatchetState copy() {
    RatchetState c = new RatchetState(ad, rk.clone(), dhs, dhr, cks == null ? null : cks.clone());
    c.ckr = ckr == null ? null : ckr.clone();
    c.ns = ns;
    c.nr = nr;
    c.pn = pn;
    c.retired.addAll(retired);
    for (Map.Entry<SkippedId, Skipped> e : skipped.entrySet()) {
      c.skipped.put(e.getKey(), new Skipped(e.getValue().mk().clone(), e.getValue().createdAt()));
    }
    return c;
  }

  /** Best-effort erasure of the secrets this state holds (Java cannot promise more). */
  void wipe() {
    Arrays.fill(rk, (byte) 0);
    if (cks != null) {
      Arrays.fill(cks, (byte) 0);
    }
    if (ckr != null) {
      Arrays.fill(ckr, (byte) 0);
    }
    skipped.values().forEach(s -> Arrays.fill(s.mk(), (byte) 0));
  }

  void retire(X25519PublicKey key) {
    retired.addLast(key);
    while (retired.size() > CryptoConstants.MSG_MAX_RETIRED_CHAINS) {
      retired.removeFirst();
    }
  }

  void putSkipped(SkippedId id, byte[] mk, long now, int cap) {
    skipped.put(id, new Skipped(mk, now));
    Iterator<Skipped> it = skipped.values().iterator();
    while (skipped.size() > cap && it.hasNext()) {
      Arrays.fill(it.next().mk(), (byte) 0);
      it.remove();
    }
  }

  /** Deletes skipped keys created at or before {@code now - maxAgeSeconds}; returns how many. */
  int purgeExpired(long now, long maxAgeSeconds) {
    int removed = 0;
    Iterator<Skipped> it = skipped.values().iterator();
    while (it.hasNext()) {
      Skipped s = it.next();
      if (now - s.createdAt() >= maxAgeSeconds) {
        Arrays.fill(s.mk(), (byte) 0);
        it.remove();
        removed++;
      }
    }
    return removed;
  }

  /**
   * {@code u8 version || ad (128) || rk (32) || dhs private (32) || u8 has_dhr [dhr (32)] || u8
   * has_cks [cks (32)] || u8 has_ckr [ckr (32)] || u32 ns || u32 nr || u32 pn || u8 retired_count
   * || retired (32 each) || u32 skipped_count || skipped (dh (32) || u32 n || u64 created_at || mk
   * (32)) each}.
   */
  byte[] encode() {
    Wire.Out out =
        new Wire.Out()
            .u8(CryptoConstants.MSG_VERSION)
            .bytes(ad.toBytes())
            .bytes(rk)
            .bytes(dhs.privateKey().exportPrivateBytes());
    optional(out, dhr == null ? null : dhr.toBytes());
    optional(out, cks);
    optional(out, ckr);
    out.u32(ns).u32(nr).u32(pn).u8(retired.size());
    retired.forEach(k -> out.bytes(k.toBytes()));
    out.u32(skipped.size());
    for (Map.Entry<SkippedId, Skipped> e : skipped.entrySet()) {
      out.bytes(e.getKey().dh().toBytes())
          .u32(e.getKey().n())
          .u64(e.getValue().createdAt())
          .bytes(e.getValue().mk());
    }
    return out.toBytes();
  }

  static RatchetState decode(byte[] encoded) {
    Wire w = Wire.of(encoded, "session state");
    w.version();
    SessionAd ad = SessionAd.of(PublicIdentity.read(w), PublicIdentity.read(w));
    byte[] rk = w.bytes(KEY);
    X25519KeyPair dhs = X25519KeyPair.fromPrivateKey(X25519PrivateKey.fromBytes(w.bytes(KEY)));
    X25519PublicKey dhr = w.flag() ? w.x25519() : null;
    RatchetState s = new RatchetState(ad, rk, dhs, dhr, w.flag() ? w.bytes(KEY) : null);
    s.ckr = w.flag() ? w.bytes(KEY) : null;
    s.ns = w.u32();
    s.nr = w.u32();
    s.pn = w.u32();
    if (s.ckr != null && s.dhr == null) {
      throw Wire.malformed("receiving chain without a receiving ratchet key");
    }
    int retiredCount = w.u8();
    if (retiredCount > CryptoConstants.MSG_MAX_RETIRED_CHAINS) {
      throw Wire.malformed("too many retired ratchet keys: " + retiredCount);
    }
    for (int i = 0; i < retiredCount; i++) {
      s.retired.addLast(w.x25519());
    }
    long count = w.u32();
    if (count > CryptoConstants.MSG_MAX_SKIPPED_KEYS) {
      throw Wire.malformed("too many skipped keys: " + count);
    }
    for (long i = 0; i < count; i++) {
      SkippedId id = new SkippedId(w.x25519(), w.u32());
      long created = w.seconds();
      if (s.skipped.put(id, new Skipped(w.bytes(KEY), created)) != null) {
        throw Wire.malformed("duplicate skipped key");
      }
    }
    w.end("session state");
    return s;
  }

  private static void optional(Wire.Out out, byte[] value) {
    out.u8(value == null ? 0 : 1);
    if (value != null) {
      out.bytes(value);
    }
  }
}
