// Noise for the relay channel (docs/relay.md "Channel crypto"), with WebCrypto only:
// Noise_IK_25519_AESGCM_SHA256 and Noise_IKpsk2_25519_AESGCM_SHA256 (revision 34), X25519 for DH,
// AES-256-GCM (nonce = 4 zero bytes + the counter big-endian), SHA-256 and HMAC-SHA256 for the
// hash and HKDF. The page is the initiator; the responder is here for the conformance replay
// (shared/crypto/conformance/noise.json) and tests. Transport messages carry an empty associated
// data and each direction is rekeyed after every 2^31-th message, as TransportPair does.

import { concat, lp, utf8 } from './bytes.js';
import { PKCS8_PREFIX } from './signatures.js';

export const IK = 'Noise_IK_25519_AESGCM_SHA256';
export const IK_PSK2 = 'Noise_IKpsk2_25519_AESGCM_SHA256';
export const REKEY_INTERVAL = 2n ** 31n;
const MAX_MESSAGE = 65535;
const MAX_NONCE = 2n ** 64n - 1n;

/** A handshake or transport message that does not authenticate, or a handshake out of order. */
export class NoiseError extends Error {}

async function hash(data) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
}

async function hmac(key, data) {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, data));
}

/** Noise HKDF (spec §4.3): two or three 32-byte outputs. */
async function hkdf(ck, ikm, n) {
  const temp = await hmac(ck, ikm);
  const o1 = await hmac(temp, Uint8Array.of(1));
  const o2 = await hmac(temp, concat(o1, Uint8Array.of(2)));
  if (n === 2) return [o1, o2];
  return [o1, o2, await hmac(temp, concat(o2, Uint8Array.of(3)))];
}

/** An X25519 key pair from a raw 32-byte private scalar (vectors, tests). */
export async function importX25519Private(raw) {
  const privateKey = await crypto.subtle.importKey('pkcs8', concat(PKCS8_PREFIX.X25519, raw), { name: 'X25519' }, true, ['deriveBits']);
  const jwk = await crypto.subtle.exportKey('jwk', privateKey);
  const publicRaw = base64url(jwk.x);
  return { privateKey, publicRaw };
}

function base64url(text) {
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** A fresh X25519 key pair; the private half is non-extractable. */
export async function generateX25519() {
  const k = await crypto.subtle.generateKey({ name: 'X25519' }, false, ['deriveBits']);
  return { privateKey: k.privateKey, publicRaw: new Uint8Array(await crypto.subtle.exportKey('raw', k.publicKey)) };
}

async function dh(pair, publicRaw) {
  if (!(publicRaw instanceof Uint8Array) || publicRaw.length !== 32) throw new NoiseError('an X25519 public key is 32 bytes');
  const pub = await crypto.subtle.importKey('raw', publicRaw, { name: 'X25519' }, false, []);
  try {
    return new Uint8Array(await crypto.subtle.deriveBits({ name: 'X25519', public: pub }, pair.privateKey, 256));
  } catch (e) {
    throw new NoiseError('X25519 refused the peer key (a low-order point)');
  }
}

function nonce(n) {
  const iv = new Uint8Array(12);
  new DataView(iv.buffer).setBigUint64(4, n, false);
  return iv;
}

/** Noise CipherState: a key (or none) and a 64-bit counter; a failed decrypt does not advance. */
export class CipherState {
  constructor() {
    this.key = null;
    this.n = 0n;
  }

  async initializeKey(raw) {
    this.key = await crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt']);
    this.dkey = await crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['decrypt']);
    this.n = 0n;
  }

  hasKey() {
    return this.key !== null;
  }

  async encrypt(ad, plaintext) {
    if (!this.key) return plaintext.slice();
    if (this.n === MAX_NONCE) throw new NoiseError('nonce exhausted');
    const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce(this.n), additionalData: ad }, this.key, plaintext);
    this.n++;
    return new Uint8Array(ct);
  }

  async decrypt(ad, ciphertext) {
    if (!this.key) return ciphertext.slice();
    if (this.n === MAX_NONCE) throw new NoiseError('nonce exhausted');
    let pt;
    try {
      pt = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce(this.n), additionalData: ad }, this.dkey, ciphertext);
    } catch (e) {
      throw new NoiseError('a Noise message did not authenticate');
    }
    this.n++;
    return new Uint8Array(pt);
  }

  /** Rekey (spec §4.2): k = the first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zeros). */
  async rekey() {
    const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce(MAX_NONCE), additionalData: new Uint8Array(0) }, this.key, new Uint8Array(32));
    const n = this.n;
    await this.initializeKey(new Uint8Array(ct).subarray(0, 32));
    this.n = n;
  }
}

/** Both directions of a finished handshake (TransportPair). */
export class Transport {
  constructor(send, receive, handshakeHash, rekeyInterval = REKEY_INTERVAL) {
    this.send = send;
    this.receive = receive;
    this.handshakeHash = handshakeHash;
    this.rekeyInterval = rekeyInterval;
    this.chain = Promise.resolve();
  }

  /** Messages sent so far: the next DATA's sequence. */
  get sentCount() {
    return this.send.n;
  }

  get receivedCount() {
    return this.receive.n;
  }

  async encrypt(plaintext) {
    if (plaintext.length > MAX_MESSAGE - 16) throw new NoiseError('a Noise transport plaintext exceeds 65519 bytes');
    const ct = await this.send.encrypt(new Uint8Array(0), plaintext);
    if (this.send.n % this.rekeyInterval === 0n) await this.send.rekey();
    return ct;
  }

  async decrypt(ciphertext) {
    if (ciphertext.length > MAX_MESSAGE) throw new NoiseError('a Noise transport message exceeds 65535 bytes');
    const pt = await this.receive.decrypt(new Uint8Array(0), ciphertext);
    if (this.receive.n % this.rekeyInterval === 0n) await this.receive.rekey();
    return pt;
  }
}

/**
 * The IK / IKpsk2 handshake of one side. `options`: {protocol (IK or IK_PSK2), initiator (bool),
 * s (own static pair {privateKey, publicRaw}), rs (the responder's static key, initiator only),
 * prologue, psk (32 bytes, IK_PSK2 only), e (a fixed ephemeral pair: vectors only)}.
 */
export class Handshake {
  constructor(options) {
    if (options.protocol !== IK && options.protocol !== IK_PSK2) throw new NoiseError('unsupported Noise protocol ' + options.protocol);
    const psk = options.protocol === IK_PSK2;
    if (psk !== (options.psk instanceof Uint8Array && options.psk.length === 32)) {
      throw new NoiseError(psk ? 'IKpsk2 needs a 32-byte PSK' : 'IK takes no PSK');
    }
    if (options.initiator && !(options.rs instanceof Uint8Array && options.rs.length === 32)) {
      throw new NoiseError('the initiator needs the responder\'s 32-byte static key');
    }
    this.o = options;
    this.psk = psk;
    this.cs = new CipherState();
    this.step = 0;
  }

  async init() {
    const name = utf8(this.o.protocol);
    this.h = name.length <= 32 ? concat(name, new Uint8Array(32 - name.length)) : await hash(name);
    this.ck = this.h.slice();
    await this.mixHash(this.o.prologue || new Uint8Array(0));
    await this.mixHash(this.o.initiator ? this.o.rs : this.o.s.publicRaw); // <- s
    this.rs = this.o.initiator ? this.o.rs : null;
  }

  async mixHash(data) {
    this.h = await hash(concat(this.h, data));
  }

  async mixKey(ikm) {
    const [ck, k] = await hkdf(this.ck, ikm, 2);
    this.ck = ck;
    await this.cs.initializeKey(k);
  }

  async mixKeyAndHash(ikm) {
    const [ck, h, k] = await hkdf(this.ck, ikm, 3);
    this.ck = ck;
    await this.mixHash(h);
    await this.cs.initializeKey(k);
  }

  async encryptAndHash(pt) {
    const ct = await this.cs.encrypt(this.h, pt);
    await this.mixHash(ct);
    return ct;
  }

  async decryptAndHash(ct) {
    const pt = await this.cs.decrypt(this.h, ct);
    await this.mixHash(ct);
    return pt;
  }

  async ephemeral(publicRaw) {
    await this.mixHash(publicRaw);
    if (this.psk) await this.mixKey(publicRaw);
  }

  /** Writes the next message (message 1 for the initiator, 2 for the responder). */
  async writeMessage(payload) {
    if (this.step === 0) await this.init();
    const mine = this.o.initiator ? 0 : 1;
    if (this.step !== mine) throw new NoiseError('a handshake message out of turn');
    this.e = this.o.e || (await generateX25519());
    const parts = [this.e.publicRaw];
    await this.ephemeral(this.e.publicRaw);
    if (this.o.initiator) {
      await this.mixKey(await dh(this.e, this.rs)); // es
      parts.push(await this.encryptAndHash(this.o.s.publicRaw)); // s
      await this.mixKey(await dh(this.o.s, this.rs)); // ss
    } else {
      await this.mixKey(await dh(this.e, this.re)); // ee
      await this.mixKey(await dh(this.e, this.rs)); // se
      if (this.psk) await this.mixKeyAndHash(this.o.psk);
    }
    parts.push(await this.encryptAndHash(payload));
    this.step++;
    const msg = concat(...parts);
    if (msg.length > MAX_MESSAGE) throw new NoiseError('a handshake message over 65535 bytes');
    return msg;
  }

  /** Reads the peer's message and returns its payload; fails with NoiseError when it does not verify. */
  async readMessage(message) {
    if (this.step === 0 && !this.o.initiator) await this.init();
    const theirs = this.o.initiator ? 1 : 0;
    if (this.step !== theirs) throw new NoiseError('a handshake message out of turn');
    if (!(message instanceof Uint8Array) || message.length < 32 || message.length > MAX_MESSAGE) {
      throw new NoiseError('a handshake message of a wrong length');
    }
    this.re = message.slice(0, 32);
    let at = 32;
    await this.ephemeral(this.re);
    if (this.o.initiator) {
      await this.mixKey(await dh(this.e, this.re)); // ee
      await this.mixKey(await dh(this.o.s, this.re)); // se
      if (this.psk) await this.mixKeyAndHash(this.o.psk);
    } else {
      await this.mixKey(await dh(this.o.s, this.re)); // es
      if (message.length < at + 48) throw new NoiseError('a handshake message of a wrong length');
      this.rs = await this.decryptAndHash(message.slice(at, at + 48)); // s
      at += 48;
      await this.mixKey(await dh(this.o.s, this.rs)); // ss
    }
    const payload = await this.decryptAndHash(message.slice(at));
    this.step++;
    return payload;
  }

  /** The peer's static key (the responder learns it from message 1). */
  get remoteStatic() {
    return this.rs;
  }

  /** After both messages: the transport pair (spec §5.2 Split). */
  async split() {
    if (this.step !== 2) throw new NoiseError('the handshake is not finished');
    const [k1, k2] = await hkdf(this.ck, new Uint8Array(0), 2);
    const c1 = new CipherState();
    const c2 = new CipherState();
    await c1.initializeKey(k1);
    await c2.initializeKey(k2);
    return this.o.initiator ? new Transport(c1, c2, this.h) : new Transport(c2, c1, this.h);
  }
}

/** The relay prologue (RelayPrologue): lp("umbra-relay-noise/v1") lp(workspace) lp(target). */
export function relayPrologue(workspaceId, targetId) {
  return concat(lp('umbra-relay-noise/v1'), lp(workspaceId), lp(targetId));
}

/** The 32-byte Noise PSK of a workspace that requires one: HKDF-SHA256(psk text, workspace id, "umbra-relay-psk/v1"). */
export async function relayPsk(workspaceId, pskText) {
  const ikm = await crypto.subtle.importKey('raw', utf8(pskText), 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: utf8(workspaceId), info: utf8('umbra-relay-psk/v1') }, ikm, 256);
  return new Uint8Array(bits);
}
