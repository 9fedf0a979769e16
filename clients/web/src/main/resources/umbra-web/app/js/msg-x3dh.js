// X3DH of docs/messaging-crypto.md (MessagingVersion.V1), byte for byte as
// dev.umbra.crypto.messaging (PublicIdentity, SignedPrekey, PrekeyBundle, InitialMessage, X3dh).
// An identity here is {ed25519Public (32), signingKey (Ed25519 CryptoKey), x25519: {privateKey,
// publicKey (32)}}: this browser's device Ed25519 key and an X25519 identity key of its own, both
// non-extractable. Peers' Ed25519 keys come from a pin, never from the bundle alone.

import { concat, equalBytes, lp } from './bytes.js';
import { dh, hkdf, RatchetSession, reader, Refused, VERSION } from './msg-ratchet.js';

const BUNDLE_WITHOUT_OPK = 246;
const BUNDLE_WITH_OPK = 282;
const MAX_WINDOW_SECONDS = 35 * 86400;
const CLOCK_SKEW_SECONDS = 300;
const MAX_TIME = 253402300799;
const ED25519 = { name: 'Ed25519' };

export function publicIdentity(id) {
  return concat(id.ed25519Public, id.x25519.publicKey);
}

export function bindingPayload(publicIdentityBytes) {
  return concat(lp('umbra-msg-identity/v1'), publicIdentityBytes);
}

export function u32(v) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v);
  return b;
}

export function u64(v) {
  if (!Number.isSafeInteger(v) || v < 0) throw new Refused('MALFORMED', 'time out of range');
  return concat(u32(Math.floor(v / 2 ** 32)), u32(v >>> 0));
}

export function signedPrekeyPayload(publicIdentityBytes, id, createdAt, expiresAt, spkPublic) {
  return concat(lp('umbra-msg-signed-prekey/v1'), publicIdentityBytes, u32(id), u64(createdAt), u64(expiresAt), spkPublic);
}

export async function sign(signingKey, payload) {
  return new Uint8Array(await crypto.subtle.sign(ED25519, signingKey, payload));
}

async function verifySig(ed25519Public, signature, payload) {
  try {
    const k = await crypto.subtle.importKey('raw', ed25519Public, ED25519, false, ['verify']);
    return await crypto.subtle.verify(ED25519, k, signature, payload);
  } catch (e) {
    return false;
  }
}

/**
 * The bundle a device publishes (without a one-time prekey): version, identity, binding signature,
 * signed prekey fields and signature, has_opk 0. `spk`: {id, createdAt, expiresAt, publicKey}.
 */
export async function signedBundle(identity, spk) {
  const pi = publicIdentity(identity);
  const binding = await sign(identity.signingKey, bindingPayload(pi));
  const spkSig = await sign(identity.signingKey, signedPrekeyPayload(pi, spk.id, spk.createdAt, spk.expiresAt, spk.publicKey));
  return concat(Uint8Array.of(VERSION), pi, binding, u32(spk.id), u64(spk.createdAt), u64(spk.expiresAt), spk.publicKey, spkSig, Uint8Array.of(0));
}

function time(r) {
  const v = r.u32() * 2 ** 32 + r.u32();
  if (v > MAX_TIME) throw new Refused('MALFORMED', 'time out of range');
  return v;
}

export function parseBundle(bytes) {
  if (!(bytes instanceof Uint8Array) || (bytes.length !== BUNDLE_WITHOUT_OPK && bytes.length !== BUNDLE_WITH_OPK)) {
    if (bytes instanceof Uint8Array && bytes.length > 0 && bytes[0] !== VERSION) throw new Refused('UNKNOWN_VERSION', 'bundle version ' + bytes[0]);
    throw new Refused('MALFORMED', 'a prekey bundle is 246 or 282 bytes');
  }
  const r = reader(bytes);
  if (r.u8() !== VERSION) throw new Refused('UNKNOWN_VERSION', 'bundle version');
  const b = { ed25519: r.bytes(32), x25519: r.key(), binding: r.bytes(64) };
  b.spkId = r.u32();
  b.spkCreatedAt = time(r);
  b.spkExpiresAt = time(r);
  b.spk = r.key();
  b.spkSig = r.bytes(64);
  b.opk = r.flag() ? { id: r.u32(), publicKey: r.key() } : null;
  r.end();
  return b;
}

/**
 * PrekeyBundle.verify: the only way to a bundle X3DH takes. In order: parse; identity = the pinned
 * Ed25519 key (IDENTITY_MISMATCH); binding and signed prekey signatures (BAD_SIGNATURE); the window
 * (MALFORMED); created_at <= now + 300 s (PREKEY_NOT_YET_VALID); now < expires_at (EXPIRED_PREKEY).
 */
export async function verifyBundle(bytes, pinnedEd25519, nowSeconds) {
  const b = parseBundle(bytes);
  if (!equalBytes(b.ed25519, pinnedEd25519)) throw new Refused('IDENTITY_MISMATCH', 'the bundle is not of the pinned identity');
  const pi = concat(b.ed25519, b.x25519);
  if (!(await verifySig(b.ed25519, b.binding, bindingPayload(pi)))) throw new Refused('BAD_SIGNATURE', 'identity binding');
  if (!(await verifySig(b.ed25519, b.spkSig, signedPrekeyPayload(pi, b.spkId, b.spkCreatedAt, b.spkExpiresAt, b.spk)))) {
    throw new Refused('BAD_SIGNATURE', 'signed prekey');
  }
  const window = b.spkExpiresAt - b.spkCreatedAt;
  if (window <= 0 || window > MAX_WINDOW_SECONDS) throw new Refused('MALFORMED', 'signed prekey validity window');
  if (b.spkCreatedAt > nowSeconds + CLOCK_SKEW_SECONDS) throw new Refused('PREKEY_NOT_YET_VALID', 'signed prekey from the future');
  if (nowSeconds >= b.spkExpiresAt) throw new Refused('EXPIRED_PREKEY', 'signed prekey expired');
  return Object.freeze(Object.assign(b, { verified: true }));
}

async function sharedSecret(dhs) {
  const ikm = concat(new Uint8Array(32).fill(0xff), ...dhs);
  const sk = await hkdf(new Uint8Array(32), ikm, 'umbra-msg-x3dh/v1', 32);
  ikm.fill(0);
  dhs.forEach((d) => d.fill(0));
  return sk;
}

/** Alice's SK and AD with `ephemeral` ({privateKey, publicKey}). */
export async function agreeAsInitiator(self, bundle, ephemeral) {
  if (!bundle.verified) throw new Error('X3DH takes a verified bundle only');
  const dhs = [
    await dh(self.x25519.privateKey, bundle.spk),
    await dh(ephemeral.privateKey, bundle.x25519),
    await dh(ephemeral.privateKey, bundle.spk),
  ];
  if (bundle.opk) dhs.push(await dh(ephemeral.privateKey, bundle.opk.publicKey));
  return { sk: await sharedSecret(dhs), ad: concat(publicIdentity(self), bundle.ed25519, bundle.x25519) };
}

/** Bob's side of the same (spk, opk: {privateKey, publicKey}; opk may be null). */
export async function agreeAsResponder(self, initiatorIdentity, ephemeralPublic, spk, opk) {
  const dhs = [
    await dh(spk.privateKey, initiatorIdentity.subarray(32, 64)),
    await dh(self.x25519.privateKey, ephemeralPublic),
    await dh(spk.privateKey, ephemeralPublic),
  ];
  if (opk) dhs.push(await dh(opk.privateKey, ephemeralPublic));
  return { sk: await sharedSecret(dhs), ad: concat(initiatorIdentity, publicIdentity(self)) };
}

/**
 * X3dh.initiate: draws the ephemeral key, then (in the ratchet's initialisation) the first ratchet
 * key, from `options.keySource`; returns {session, initialMessage (bytes)}.
 */
export async function initiate(self, bundle, firstPlaintext, options) {
  const session0 = new RatchetSession(null, options);
  const ephemeral = await session0.o.keySource();
  const a = await agreeAsInitiator(self, bundle, ephemeral);
  const session = await RatchetSession.initiator(a.sk, a.ad, bundle.spk, options);
  a.sk.fill(0);
  const first = await session.encrypt(firstPlaintext);
  const pi = publicIdentity(self);
  const binding = await sign(self.signingKey, bindingPayload(pi));
  const opk = bundle.opk ? concat(Uint8Array.of(1), u32(bundle.opk.id)) : Uint8Array.of(0);
  const initialMessage = concat(Uint8Array.of(VERSION), pi, binding, ephemeral.publicKey, u32(bundle.spkId), opk, first);
  return { session, initialMessage };
}

export function parseInitial(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length < 1) throw new Refused('MALFORMED', 'empty initial message');
  const r = reader(bytes);
  if (r.u8() !== VERSION) throw new Refused('UNKNOWN_VERSION', 'initial message version');
  const m = { sender: concat(r.bytes(32), r.key()), binding: r.bytes(64), ephemeral: r.key(), spkId: r.u32() };
  m.opkId = r.flag() ? r.u32() : null;
  m.message = r.rest();
  return m;
}

/**
 * X3dh.respond for this browser as Bob: pinned sender, binding signature, prekeys held, X3DH, the
 * first decryption, the ephemeral key not seen before; only then is the one-time prekey consumed.
 * `prekeys`: {signed(id), oneTime(id), seen(spkId, ephemeral) -> bool, remember(spkId, ephemeral),
 * consume(opkId)} (msg-store.js). Returns {session, plaintext}.
 */
export async function respond(self, prekeys, bytes, pinnedSenderEd25519, options) {
  const m = parseInitial(bytes);
  if (!equalBytes(m.sender.subarray(0, 32), pinnedSenderEd25519)) throw new Refused('IDENTITY_MISMATCH', 'not the pinned sender');
  if (!(await verifySig(m.sender.subarray(0, 32), m.binding, bindingPayload(m.sender)))) throw new Refused('BAD_SIGNATURE', 'identity binding');
  const spk = prekeys.signed(m.spkId);
  if (!spk) throw new Refused('UNKNOWN_PREKEY', 'signed prekey ' + m.spkId + ' is not held');
  let opk = null;
  if (m.opkId !== null) {
    opk = prekeys.oneTime(m.opkId);
    if (!opk) throw new Refused('UNKNOWN_PREKEY', 'one-time prekey ' + m.opkId + ' is not held');
  }
  const a = await agreeAsResponder(self, m.sender, m.ephemeral, spk, opk);
  const session = RatchetSession.responder(a.sk, a.ad, spk, options);
  a.sk.fill(0);
  const plaintext = await session.decrypt(m.message);
  if (prekeys.seen(m.spkId, m.ephemeral)) throw new Refused('REPLAYED', 'initial message seen before');
  prekeys.remember(m.spkId, m.ephemeral);
  if (opk) prekeys.consume(m.opkId);
  return { session, plaintext };
}
