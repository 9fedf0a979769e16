// Bytes, hex and the length prefix of docs/crypto.md: lp(x) = u32be(len(x)) || x.

const HEX = /^(?:[0-9a-f]{2})*$/;

/** Lower-case hex of a Uint8Array or ArrayBuffer. */
export function toHex(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** Bytes of lower-case hex; anything else (upper case, odd length, other characters) throws. */
export function fromHex(hex) {
  if (typeof hex !== 'string' || !HEX.test(hex)) throw new Error('not lower-case hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export function utf8(text) {
  return new TextEncoder().encode(text);
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** lp(x): 4-byte big-endian length, then x (a string enters as UTF-8). */
export function lp(x) {
  const b = typeof x === 'string' ? utf8(x) : x;
  const out = new Uint8Array(4 + b.length);
  new DataView(out.buffer).setUint32(0, b.length);
  out.set(b, 4);
  return out;
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

/** Equality of two byte arrays without an early exit (for values an attacker may probe). */
export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/** Standard base64 (with padding) of bytes, as the control plane's vault fields carry them. */
export function toBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Bytes of standard base64; anything else throws. */
export function fromBase64(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new Error('not base64');
  }
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
