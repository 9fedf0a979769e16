// The Double Ratchet of docs/messaging-crypto.md (MessagingVersion.V1), byte for byte as
// dev.umbra.crypto.messaging.RatchetSession: HKDF-SHA256 root KDF, HMAC-SHA256 chain KDF,
// XChaCha20-Poly1305 with a key and nonce derived per message, the AD (128) || header (41) as
// associated data. Decryption runs on a copy of the state that replaces it only when the tag
// verified, so every refusal leaves the session as it was. Ratchet private keys are
// non-extractable X25519 CryptoKeys ({privateKey, publicKey: 32 bytes}); a key source may add
// `raw` (the vectors' fixed keys) so that the state can be encoded exactly as the Java library does.

import { concat, equalBytes, utf8 } from './bytes.js';
import { open as aeadOpen, seal as aeadSeal } from './xchacha20poly1305.js';

export const VERSION = 1;
export const HEADER_LENGTH = 41;
export const AD_LENGTH = 128;
export const MAX_PLAINTEXT = 1 << 20;
export const LIMITS = Object.freeze({ maxSkip: 1000, maxSkippedKeys: 2000, skippedMaxAgeSeconds: 30 * 86400, maxRetired: 16 });
const LAST_COUNTER = 0xffffffff;
const ZERO32 = new Uint8Array(32);
const P_MINUS_19 = 2n ** 255n - 19n;

/** A refusal with one of docs/messaging-crypto.md's reasons (MessageRefusal). */
export class Refused extends Error {
  constructor(reason, message) {
    super(reason + ': ' + message);
    this.reason = reason;
  }
}

// ---- primitives over WebCrypto ----

export async function hmacSha256(key, data) {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, data));
}

export async function hkdf(salt, ikm, info, length) {
  const k = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info: utf8(info) }, k, length * 8));
}

/** True when `raw` is an X25519 public key in canonical form (top bit clear, below 2^255 - 19). */
export function canonicalX25519(raw) {
  if (!(raw instanceof Uint8Array) || raw.length !== 32 || (raw[31] & 0x80) !== 0) return false;
  let v = 0n;
  for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]);
  return v < P_MINUS_19;
}

/** X25519(own private CryptoKey, peer public raw); a non-canonical or low-order peer key is MALFORMED. */
export async function dh(privateKey, peerRaw) {
  if (!canonicalX25519(peerRaw)) throw new Refused('MALFORMED', 'non-canonical X25519 public key');
  let out;
  try {
    const pub = await crypto.subtle.importKey('raw', peerRaw, { name: 'X25519' }, true, []);
    out = new Uint8Array(await crypto.subtle.deriveBits({ name: 'X25519', public: pub }, privateKey, 256));
  } catch (e) {
    throw new Refused('MALFORMED', 'low-order X25519 public key');
  }
  if (equalBytes(out, ZERO32)) throw new Refused('MALFORMED', 'low-order X25519 public key');
  return out;
}

/** A fresh non-extractable X25519 key pair: {privateKey, publicKey (raw 32)}. */
export async function freshKey() {
  const pair = await crypto.subtle.generateKey({ name: 'X25519' }, false, ['deriveBits']);
  return { privateKey: pair.privateKey, publicKey: new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)) };
}

export async function kdfRk(rk, dhOut) {
  const out = await hkdf(rk, dhOut, 'umbra-msg-ratchet-root/v1', 64);
  return [out.slice(0, 32), out.slice(32, 64)];
}

/** KDF_CK: [next chain key, message key]. */
export async function kdfCk(ck) {
  return [await hmacSha256(ck, Uint8Array.of(2)), await hmacSha256(ck, Uint8Array.of(1))];
}

/** [XChaCha20-Poly1305 key (32), nonce (24)] of a message key. */
export async function messageKeys(mk) {
  const out = await hkdf(ZERO32, mk, 'umbra-msg-message-key/v1', 56);
  return [out.slice(0, 32), out.slice(32, 56)];
}

// ---- header and message ----

export function encodeHeader(h) {
  const out = new Uint8Array(HEADER_LENGTH);
  out[0] = VERSION;
  out.set(h.dh, 1);
  const v = new DataView(out.buffer);
  v.setUint32(33, h.pn);
  v.setUint32(37, h.n);
  return out;
}

/** {header, headerBytes, ciphertext} of an encoded ratchet message; MALFORMED / UNKNOWN_VERSION / TOO_LARGE. */
export function parseMessage(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length < 1) throw new Refused('MALFORMED', 'empty ratchet message');
  if (bytes.length > HEADER_LENGTH + MAX_PLAINTEXT + 16) throw new Refused('TOO_LARGE', 'ratchet message over the size limit');
  if (bytes[0] !== VERSION) throw new Refused('UNKNOWN_VERSION', 'ratchet message version ' + bytes[0]);
  if (bytes.length < HEADER_LENGTH + 16) throw new Refused('MALFORMED', 'ratchet message too short');
  const dhKey = bytes.slice(1, 33);
  if (!canonicalX25519(dhKey)) throw new Refused('MALFORMED', 'non-canonical ratchet key');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return {
    header: { dh: dhKey, pn: v.getUint32(33), n: v.getUint32(37) },
    headerBytes: bytes.slice(0, HEADER_LENGTH),
    ciphertext: bytes.slice(HEADER_LENGTH),
  };
}

// ---- the session ----

function copyState(s) {
  return {
    ad: s.ad,
    rk: s.rk.slice(),
    dhs: s.dhs,
    dhr: s.dhr ? s.dhr.slice() : null,
    cks: s.cks ? s.cks.slice() : null,
    ckr: s.ckr ? s.ckr.slice() : null,
    ns: s.ns,
    nr: s.nr,
    pn: s.pn,
    retired: s.retired.map((k) => k.slice()),
    skipped: s.skipped.map((k) => ({ dh: k.dh, n: k.n, createdAt: k.createdAt, mk: k.mk.slice() })),
  };
}

function wipe(s) {
  [s.rk, s.cks, s.ckr].forEach((b) => b && b.fill(0));
  s.skipped.forEach((k) => k.mk.fill(0));
}

export class RatchetSession {
  /** `options`: {keySource: async () => key pair, now: () => Unix seconds, limits}. */
  constructor(state, options) {
    this.s = state;
    this.o = Object.assign({ keySource: freshKey, now: () => Math.floor(Date.now() / 1000), limits: LIMITS }, options || {});
  }

  /** Alice: DHs fresh, DHr = Bob's signed prekey, RK, CKs = KDF_RK(SK, DH(DHs, DHr)). */
  static async initiator(sk, ad, peerSpk, options) {
    const session = new RatchetSession(null, options);
    const dhs = await session.o.keySource();
    const [rk, cks] = await kdfRk(sk, await dh(dhs.privateKey, peerSpk));
    session.s = { ad, rk, dhs, dhr: peerSpk.slice(), cks, ckr: null, ns: 0, nr: 0, pn: 0, retired: [], skipped: [] };
    return session;
  }

  /** Bob: DHs = his signed prekey pair, RK = SK; he sends after his first decryption. */
  static responder(sk, ad, ownSpk, options) {
    return new RatchetSession({ ad, rk: sk.slice(), dhs: ownSpk, dhr: null, cks: null, ckr: null, ns: 0, nr: 0, pn: 0, retired: [], skipped: [] }, options);
  }

  canSend() {
    return this.s.cks !== null;
  }

  async encrypt(plaintext) {
    if (plaintext.length > MAX_PLAINTEXT) throw new Refused('TOO_LARGE', 'plaintext over the size limit');
    if (!this.s.cks) throw new Error('no sending chain yet: the responder sends after its first decryption');
    if (this.s.ns >= LAST_COUNTER) throw new Refused('COUNTER_EXHAUSTED', 'sending chain exhausted');
    const [ck, mk] = await kdfCk(this.s.cks);
    this.s.cks.fill(0);
    this.s.cks = ck;
    const headerBytes = encodeHeader({ dh: this.s.dhs.publicKey, pn: this.s.pn, n: this.s.ns });
    this.s.ns++;
    const [key, nonce] = await messageKeys(mk);
    mk.fill(0);
    const ct = aeadSeal(key, nonce, plaintext, concat(this.s.ad, headerBytes));
    key.fill(0);
    return concat(headerBytes, ct);
  }

  /** The plaintext of an encoded ratchet message, or a Refused; the state changes only on success. */
  async decrypt(bytes) {
    const m = parseMessage(bytes);
    const now = this.o.now();
    this.purgeExpired(now);
    const work = copyState(this.s);
    try {
      const plain = await this.decryptOn(work, m, now);
      wipe(this.s);
      this.s = work;
      return plain;
    } catch (e) {
      wipe(work);
      throw e;
    }
  }

  purgeExpired(now) {
    const keep = [];
    for (const k of this.s.skipped) {
      if (now - k.createdAt >= this.o.limits.skippedMaxAgeSeconds) k.mk.fill(0);
      else keep.push(k);
    }
    this.s.skipped = keep;
  }

  async decryptOn(w, m, now) {
    const h = m.header;
    if (h.n >= LAST_COUNTER) throw new Refused('MALFORMED', 'n beyond the last counter');
    const at = w.skipped.findIndex((k) => k.n === h.n && equalBytes(k.dh, h.dh));
    if (at >= 0) {
      const [found] = w.skipped.splice(at, 1);
      return openWith(found.mk, w.ad, m);
    }
    let stepped = false;
    if (w.dhr && equalBytes(h.dh, w.dhr)) {
      if (h.n < w.nr) throw new Refused('REPLAYED', 'message key already used or deleted');
    } else if (w.retired.some((k) => equalBytes(k, h.dh))) {
      throw new Refused('REPLAYED', 'message of a closed chain, key already used or deleted');
    } else {
      await this.skip(w, h.pn, now);
      if (w.dhr) {
        w.retired.push(w.dhr);
        while (w.retired.length > this.o.limits.maxRetired) w.retired.shift();
      }
      w.pn = w.ns;
      w.ns = 0;
      w.nr = 0;
      w.dhr = h.dh.slice();
      const [rk, ckr] = await kdfRk(w.rk, await dh(w.dhs.privateKey, w.dhr));
      w.rk.fill(0);
      w.rk = rk;
      w.ckr = ckr;
      stepped = true;
    }
    if (!w.ckr) throw new Refused('BAD_TAG', 'no receiving chain for this ratchet key');
    await this.skip(w, h.n, now);
    const [ck, mk] = await kdfCk(w.ckr);
    w.ckr.fill(0);
    w.ckr = ck;
    w.nr++;
    const plain = await openWith(mk, w.ad, m);
    if (stepped) {
      w.dhs = await this.o.keySource();
      const [rk, cks] = await kdfRk(w.rk, await dh(w.dhs.privateKey, w.dhr));
      w.rk.fill(0);
      w.rk = rk;
      if (w.cks) w.cks.fill(0);
      w.cks = cks;
    }
    return plain;
  }

  async skip(w, until, now) {
    if (w.nr + this.o.limits.maxSkip < until) {
      throw new Refused('TOO_MANY_SKIPPED', 'would skip ' + (until - w.nr) + ' message keys');
    }
    if (!w.ckr) return;
    while (w.nr < until) {
      const [ck, mk] = await kdfCk(w.ckr);
      w.ckr.fill(0);
      w.ckr = ck;
      w.skipped.push({ dh: w.dhr, n: w.nr, createdAt: now, mk });
      while (w.skipped.length > this.o.limits.maxSkippedKeys) w.skipped.shift().mk.fill(0); // oldest first
      w.nr++;
    }
  }

  skippedKeyCount() {
    return this.s.skipped.length;
  }

  /**
   * The session state encoding of docs/messaging-crypto.md ("Session state at rest"). The DHs
   * private key is non-extractable: its 32 bytes are `dhs.raw` when the key source gave them (the
   * vectors), else zeros — the CryptoKey itself is kept beside the sealed bytes (msg-store.js).
   */
  toBytes() {
    const s = this.s;
    const parts = [Uint8Array.of(VERSION), s.ad, s.rk, s.dhs.raw || ZERO32];
    for (const v of [s.dhr, s.cks, s.ckr]) parts.push(v ? concat(Uint8Array.of(1), v) : Uint8Array.of(0));
    const counters = new Uint8Array(13);
    const dv = new DataView(counters.buffer);
    dv.setUint32(0, s.ns);
    dv.setUint32(4, s.nr);
    dv.setUint32(8, s.pn);
    counters[12] = s.retired.length;
    parts.push(counters, ...s.retired);
    const count = new Uint8Array(4);
    new DataView(count.buffer).setUint32(0, s.skipped.length);
    parts.push(count);
    for (const k of s.skipped) {
      const nc = new Uint8Array(12);
      const v = new DataView(nc.buffer);
      v.setUint32(0, k.n);
      v.setUint32(4, Math.floor(k.createdAt / 2 ** 32));
      v.setUint32(8, k.createdAt >>> 0);
      parts.push(k.dh, nc, k.mk);
    }
    return concat(...parts);
  }

  /** The inverse of toBytes, with the DHs key pair given (its private half is not in the bytes). */
  static fromBytes(bytes, dhs, options) {
    const r = reader(bytes);
    if (r.u8() !== VERSION) throw new Refused('UNKNOWN_VERSION', 'session state version');
    const s = { ad: r.bytes(AD_LENGTH), rk: r.bytes(32), dhs, retired: [], skipped: [] };
    r.bytes(32); // DHs private: held as the CryptoKey `dhs`
    s.dhr = r.flag() ? r.key() : null;
    s.cks = r.flag() ? r.bytes(32) : null;
    s.ckr = r.flag() ? r.bytes(32) : null;
    if (s.ckr && !s.dhr) throw new Refused('MALFORMED', 'a receiving chain without DHr');
    s.ns = r.u32();
    s.nr = r.u32();
    s.pn = r.u32();
    const retired = r.u8();
    if (retired > LIMITS.maxRetired) throw new Refused('MALFORMED', 'too many retired ratchet keys');
    for (let i = 0; i < retired; i++) s.retired.push(r.key());
    const count = r.u32();
    if (count > LIMITS.maxSkippedKeys) throw new Refused('MALFORMED', 'too many skipped keys');
    for (let i = 0; i < count; i++) {
      const k = { dh: r.key(), n: r.u32(), createdAt: r.u32() * 2 ** 32 + r.u32(), mk: r.bytes(32) };
      if (s.skipped.some((o) => o.n === k.n && equalBytes(o.dh, k.dh))) throw new Refused('MALFORMED', 'duplicate skipped key');
      s.skipped.push(k);
    }
    r.end();
    return new RatchetSession(s, options);
  }
}

async function openWith(mk, ad, m) {
  const [key, nonce] = await messageKeys(mk);
  mk.fill(0);
  const plain = aeadOpen(key, nonce, m.ciphertext, concat(ad, m.headerBytes));
  key.fill(0);
  if (plain === null) throw new Refused('BAD_TAG', 'message does not authenticate');
  return plain;
}

/** A bounds-checked reader: anything short or left over is MALFORMED. */
export function reader(bytes) {
  let at = 0;
  const need = (n) => {
    if (at + n > bytes.length) throw new Refused('MALFORMED', 'truncated');
  };
  const r = {
    u8: () => {
      need(1);
      return bytes[at++];
    },
    u32: () => {
      need(4);
      const v = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0);
      at += 4;
      return v;
    },
    bytes: (n) => {
      need(n);
      at += n;
      return bytes.slice(at - n, at);
    },
    flag: () => {
      const f = r.u8();
      if (f > 1) throw new Refused('MALFORMED', 'a flag other than 0/1');
      return f === 1;
    },
    key: () => {
      const k = r.bytes(32);
      if (!canonicalX25519(k)) throw new Refused('MALFORMED', 'non-canonical X25519 key');
      return k;
    },
    rest: () => r.bytes(bytes.length - at),
    end: () => {
      if (at !== bytes.length) throw new Refused('MALFORMED', 'trailing bytes');
    },
  };
  return r;
}
