// HPKE (RFC 9180) base mode with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and AES-256-GCM — the
// WebTTY key-envelope suite hpke-x25519-hkdf-sha256-aes-256-gcm (docs/crypto.md) — from WebCrypto
// only: X25519 deriveBits, HMAC-SHA256 for HKDF's extract and expand (WebCrypto's HKDF does both
// at once, HPKE labels each step), AES-GCM. Single-shot: one message per context (sequence 0).

import { concat, utf8 } from './bytes.js';
import { PKCS8_PREFIX } from './signatures.js';

const KEM_SUITE = concat(utf8('KEM'), Uint8Array.of(0x00, 0x20));
const HPKE_SUITE = concat(utf8('HPKE'), Uint8Array.of(0x00, 0x20, 0x00, 0x01, 0x00, 0x02));
const VERSION = utf8('HPKE-v1');
const ZERO_SALT = new Uint8Array(32); // HKDF: an empty salt is HashLen zero bytes

async function hmac(key, data) {
  const k = await crypto.subtle.importKey('raw', key.length ? key : ZERO_SALT, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, data));
}

function labeledExtract(suite, salt, label, ikm) {
  return hmac(salt, concat(VERSION, suite, utf8(label), ikm));
}

async function labeledExpand(suite, prk, label, info, length) {
  const labeled = concat(Uint8Array.of(length >> 8, length & 0xff), VERSION, suite, utf8(label), info);
  const t1 = await hmac(prk, concat(labeled, Uint8Array.of(1))); // L <= 32: one block
  return t1.slice(0, length);
}

async function sharedSecret(dh, enc, recipientPublic) {
  const prk = await labeledExtract(KEM_SUITE, new Uint8Array(0), 'eae_prk', dh);
  return labeledExpand(KEM_SUITE, prk, 'shared_secret', concat(enc, recipientPublic), 32);
}

async function keySchedule(secret, info) {
  const pskIdHash = await labeledExtract(HPKE_SUITE, new Uint8Array(0), 'psk_id_hash', new Uint8Array(0));
  const infoHash = await labeledExtract(HPKE_SUITE, new Uint8Array(0), 'info_hash', info);
  const context = concat(Uint8Array.of(0), pskIdHash, infoHash);
  const s = await labeledExtract(HPKE_SUITE, secret, 'secret', new Uint8Array(0));
  const key = await labeledExpand(HPKE_SUITE, s, 'key', context, 32);
  const nonce = await labeledExpand(HPKE_SUITE, s, 'base_nonce', context, 12);
  return {
    key: await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt', 'decrypt']),
    nonce,
  };
}

async function dh(privateKey, publicRaw) {
  const pub = await crypto.subtle.importKey('raw', publicRaw, { name: 'X25519' }, true, []);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'X25519', public: pub }, privateKey, 256));
}

/** An X25519 private key from its 32 raw bytes (test vectors only; never extractable). */
export function importX25519Private(raw) {
  return crypto.subtle.importKey('pkcs8', concat(PKCS8_PREFIX.X25519, raw), { name: 'X25519' }, false, ['deriveBits']);
}

/**
 * Seals `plaintext` to the X25519 public key `recipientPublic` (32 bytes). `ephemeral` ({privateKey,
 * publicRaw}) is for replaying vectors; normally a fresh key pair is made and dropped.
 */
export async function seal(recipientPublic, info, aad, plaintext, ephemeral) {
  let e = ephemeral;
  if (!e) {
    const pair = await crypto.subtle.generateKey({ name: 'X25519' }, false, ['deriveBits']);
    e = { privateKey: pair.privateKey, publicRaw: new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)) };
  }
  const enc = e.publicRaw;
  const secret = await sharedSecret(await dh(e.privateKey, recipientPublic), enc, recipientPublic);
  const ctx = await keySchedule(secret, info);
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv: ctx.nonce, additionalData: aad }, ctx.key, plaintext),
  );
  return { enc, ciphertext };
}

/** Opens what `seal` made for the key pair (`recipientPrivate`, `recipientPublic`); throws if it does not. */
export async function open(enc, recipientPrivate, recipientPublic, info, aad, ciphertext) {
  if (enc.length !== 32) throw new Error('an HPKE enc of X25519 is 32 bytes');
  const secret = await sharedSecret(await dh(recipientPrivate, enc), enc, recipientPublic);
  const ctx = await keySchedule(secret, info);
  return new Uint8Array(
    await crypto.subtle.decrypt({ name: 'AES-GCM', iv: ctx.nonce, additionalData: aad }, ctx.key, ciphertext),
  );
}
