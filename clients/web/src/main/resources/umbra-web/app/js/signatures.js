// Ed25519 through WebCrypto, over the UTF-8 bytes of a canonical payload text
// ({"payload": "<canonical JSON text>", "signature": "<128 hex>"}, docs/device-trust.md).

import { concat, fromHex, toHex, utf8 } from './bytes.js';

const ED25519 = { name: 'Ed25519' };
/** PKCS #8 wrappings of raw 32-byte private keys (RFC 8410): an Ed25519 seed, an X25519 scalar. */
export const PKCS8_PREFIX = {
  Ed25519: fromHex('302e020100300506032b657004220420'),
  X25519: fromHex('302e020100300506032b656e04220420'),
};

export async function importEd25519Public(hex) {
  const raw = fromHex(hex);
  if (raw.length !== 32) throw new Error('an Ed25519 public key is 32 bytes');
  return crypto.subtle.importKey('raw', raw, ED25519, false, ['verify']);
}

/** A non-extractable signing key from a 32-byte seed. */
export async function importEd25519Seed(hex) {
  const seed = fromHex(hex);
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes');
  return crypto.subtle.importKey('pkcs8', concat(PKCS8_PREFIX.Ed25519, seed), ED25519, false, ['sign']);
}

export async function signText(privateKey, text) {
  return toHex(await crypto.subtle.sign(ED25519, privateKey, utf8(text)));
}

/** True when `signatureHex` is an Ed25519 signature by `publicKeyHex` over `text`; never throws on bad input. */
export async function verifyText(publicKeyHex, text, signatureHex) {
  try {
    const sig = fromHex(signatureHex);
    if (sig.length !== 64) return false;
    const key = await importEd25519Public(publicKeyHex);
    return await crypto.subtle.verify(ED25519, key, sig, utf8(text));
  } catch (e) {
    return false;
  }
}
