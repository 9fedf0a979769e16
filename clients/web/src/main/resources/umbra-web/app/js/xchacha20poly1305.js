// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03): HChaCha20 derives a subkey from the key and the
// first 16 nonce bytes, then the RFC 8439 AEAD (ChaCha20 + Poly1305) runs with that subkey and the
// nonce 0x00000000 || nonce[16..24]. WebCrypto has no ChaCha20 or Poly1305, so this one primitive
// is written here (docs/web.md, "Messaging": why, and how it is verified — the Wycheproof
// XChaCha20-Poly1305 vectors and the project's double-ratchet.json replayed in Chromium).
//
// Constant-time style: 32-bit additions, xors and rotations only in ChaCha20; Poly1305 on 17
// limbs of 8 bits with a fixed number of operations per block, and its final reduction chosen
// with a mask; the tag compared without an early exit. No branch and no table index depends on a
// key, a nonce-derived value, the plaintext or the tag (lengths are public).

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]; // "expand 32-byte k"

function rotl(x, n) {
  return (x << n) | (x >>> (32 - n));
}

function quarter(s, a, b, c, d) {
  s[a] = (s[a] + s[b]) | 0; s[d] = rotl(s[d] ^ s[a], 16);
  s[c] = (s[c] + s[d]) | 0; s[b] = rotl(s[b] ^ s[c], 12);
  s[a] = (s[a] + s[b]) | 0; s[d] = rotl(s[d] ^ s[a], 8);
  s[c] = (s[c] + s[d]) | 0; s[b] = rotl(s[b] ^ s[c], 7);
}

/** The 20 rounds (10 double rounds) over a 16-word state, in place. */
function rounds(s) {
  for (let i = 0; i < 10; i++) {
    quarter(s, 0, 4, 8, 12); quarter(s, 1, 5, 9, 13); quarter(s, 2, 6, 10, 14); quarter(s, 3, 7, 11, 15);
    quarter(s, 0, 5, 10, 15); quarter(s, 1, 6, 11, 12); quarter(s, 2, 7, 8, 13); quarter(s, 3, 4, 9, 14);
  }
}

function le32(b, at) {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);
}

function put32(out, at, v) {
  out[at] = v & 255; out[at + 1] = (v >>> 8) & 255; out[at + 2] = (v >>> 16) & 255; out[at + 3] = (v >>> 24) & 255;
}

/** The initial state: constants, key (32), then 4 words (counter and nonce, or the 16-byte input of HChaCha20). */
function state(key, tail) {
  const s = new Int32Array(16);
  for (let i = 0; i < 4; i++) s[i] = SIGMA[i];
  for (let i = 0; i < 8; i++) s[4 + i] = le32(key, 4 * i);
  for (let i = 0; i < 4; i++) s[12 + i] = tail[i];
  return s;
}

/** HChaCha20(key, 16-byte input): words 0..3 and 12..15 of the rounds, without the final addition. */
export function hchacha20(key, input) {
  const s = state(key, [le32(input, 0), le32(input, 4), le32(input, 8), le32(input, 12)]);
  rounds(s);
  const out = new Uint8Array(32);
  for (let i = 0; i < 4; i++) {
    put32(out, 4 * i, s[i]);
    put32(out, 16 + 4 * i, s[12 + i]);
  }
  return out;
}

/** RFC 8439 ChaCha20: `data` xored with the key stream from block `counter` (12-byte nonce). */
export function chacha20(key, nonce12, counter, data) {
  const out = new Uint8Array(data.length);
  const n = [le32(nonce12, 0), le32(nonce12, 4), le32(nonce12, 8)];
  const block = new Uint8Array(64);
  for (let at = 0, c = counter; at < data.length; at += 64, c++) {
    const init = state(key, [c | 0, n[0], n[1], n[2]]);
    const s = Int32Array.from(init);
    rounds(s);
    for (let i = 0; i < 16; i++) put32(block, 4 * i, (s[i] + init[i]) | 0);
    const end = Math.min(64, data.length - at);
    for (let i = 0; i < end; i++) out[at + i] = data[at + i] ^ block[i];
  }
  block.fill(0);
  return out;
}

// Poly1305 (RFC 8439 2.5) on 17 limbs of 8 bits: h = (h + block) * r mod 2^130 - 5.

function addLimbs(h, c) {
  let u = 0;
  for (let j = 0; j < 17; j++) {
    u = (u + h[j] + c[j]) | 0;
    h[j] = u & 255;
    u >>>= 8;
  }
}

const MINUS_P = Uint32Array.of(5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 252); // 2^136 - (2^130 - 5)

/** The Poly1305 tag of `msg` (a multiple of 16 bytes here: the AEAD pads) under the 32-byte one-time key. */
export function poly1305(msg, key) {
  const r = new Uint32Array(17);
  const h = new Uint32Array(17);
  const c = new Uint32Array(17);
  const x = new Uint32Array(17);
  for (let j = 0; j < 16; j++) r[j] = key[j];
  r[3] &= 15; r[4] &= 252; r[7] &= 15; r[8] &= 252; r[11] &= 15; r[12] &= 252; r[15] &= 15; // clamp
  for (let at = 0; at < msg.length; at += 16) {
    const len = Math.min(16, msg.length - at);
    c.fill(0);
    for (let j = 0; j < len; j++) c[j] = msg[at + j];
    c[len] = 1;
    addLimbs(h, c);
    for (let i = 0; i < 17; i++) {
      let sum = 0;
      // limbs past 2^136 fold back times 2^-136 * 5 * 2^6 = 320 (2^136 = 2^6 * 2^130 ≡ 320)
      for (let j = 0; j < 17; j++) sum = (sum + h[j] * (j <= i ? r[i - j] : 320 * r[i + 17 - j])) | 0;
      x[i] = sum;
    }
    h.set(x);
    let u = 0;
    for (let j = 0; j < 16; j++) {
      u = (u + h[j]) | 0;
      h[j] = u & 255;
      u >>>= 8;
    }
    u = (u + h[16]) | 0;
    h[16] = u & 3;
    u = (5 * (u >>> 2)) | 0; // the bits above 2^130 come back times 5
    for (let j = 0; j < 16; j++) {
      u = (u + h[j]) | 0;
      h[j] = u & 255;
      u >>>= 8;
    }
    h[16] = (u + h[16]) | 0;
  }
  // h - p when that is not negative (the top limb's bit 7 says), chosen with a mask
  const g = Uint32Array.from(h);
  addLimbs(h, MINUS_P);
  const keep = -(h[16] >>> 7) | 0; // all ones: h < p, keep g
  for (let j = 0; j < 17; j++) h[j] ^= keep & (g[j] ^ h[j]);
  c.fill(0);
  for (let j = 0; j < 16; j++) c[j] = key[16 + j];
  addLimbs(h, c);
  const tag = new Uint8Array(16);
  for (let j = 0; j < 16; j++) tag[j] = h[j];
  r.fill(0); g.fill(0); h.fill(0); x.fill(0);
  return tag;
}

function pad16(n) {
  return (16 - (n % 16)) % 16;
}

function macData(aad, ct) {
  const out = new Uint8Array(aad.length + pad16(aad.length) + ct.length + pad16(ct.length) + 16);
  out.set(aad, 0);
  const at = aad.length + pad16(aad.length);
  out.set(ct, at);
  const dv = new DataView(out.buffer);
  dv.setUint32(out.length - 16, aad.length, true);
  dv.setUint32(out.length - 12, Math.floor(aad.length / 2 ** 32), true);
  dv.setUint32(out.length - 8, ct.length, true);
  dv.setUint32(out.length - 4, Math.floor(ct.length / 2 ** 32), true);
  return out;
}

function subkey(key, nonce) {
  if (!(key instanceof Uint8Array) || key.length !== 32) throw new Error('XChaCha20-Poly1305 needs a 32-byte key');
  if (!(nonce instanceof Uint8Array) || nonce.length !== 24) throw new Error('XChaCha20-Poly1305 needs a 24-byte nonce');
  const n12 = new Uint8Array(12);
  n12.set(nonce.subarray(16, 24), 4);
  return { k: hchacha20(key, nonce.subarray(0, 16)), n12 };
}

function tagOf(k, n12, aad, ct) {
  const polyKey = chacha20(k, n12, 0, new Uint8Array(32));
  const tag = poly1305(macData(aad, ct), polyKey);
  polyKey.fill(0);
  return tag;
}

/** ciphertext || 16-byte tag of `plaintext` with associated data `aad`. */
export function seal(key, nonce, plaintext, aad = new Uint8Array(0)) {
  const { k, n12 } = subkey(key, nonce);
  const ct = chacha20(k, n12, 1, plaintext);
  const out = new Uint8Array(ct.length + 16);
  out.set(ct, 0);
  out.set(tagOf(k, n12, aad, ct), ct.length);
  k.fill(0);
  return out;
}

/** The plaintext, or null when the tag does not verify (nothing is decrypted then). */
export function open(key, nonce, sealed, aad = new Uint8Array(0)) {
  if (!(sealed instanceof Uint8Array) || sealed.length < 16) return null;
  const { k, n12 } = subkey(key, nonce);
  const ct = sealed.subarray(0, sealed.length - 16);
  const want = tagOf(k, n12, aad, ct);
  let d = 0;
  for (let i = 0; i < 16; i++) d |= want[i] ^ sealed[sealed.length - 16 + i];
  if (d !== 0) {
    k.fill(0);
    return null;
  }
  const plain = chacha20(k, n12, 1, ct);
  k.fill(0);
  return plain;
}
