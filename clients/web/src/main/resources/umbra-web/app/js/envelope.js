// The keyset envelope sealed to this browser (docs/crypto.md "Workspace key envelopes",
// docs/device-trust.md "Envelope format"): P-256 ECDH with the envelope's ephemeral key (Z = the
// x-coordinate), HKDF-SHA256(Z, salt, "umbra.workspace_key_envelope.v1") → AES-256-GCM key,
// aad = lp(suite) lp(ephemeral_public_key) lp(recipient_public_key) lp(associated_data).
// After approval the page opens it and checks it holds exactly the verified current keyset, as
// `umbra device trust` does; the private bundle is dropped at once (nothing keeps it yet).

import { concat, fromHex, lp, toHex, utf8 } from './bytes.js';
import { canonicalize, parse } from './canonical-json.js';
import { PKCS8_PREFIX, importEd25519Seed } from './signatures.js';

const SUITE = 'p256-ecdh-hkdf-sha256-aes-256-gcm';
const INFO = 'umbra.workspace_key_envelope.v1';
const BUNDLE = 'umbra-keyset-bundle/v1';

export class EnvelopeError extends Error {}

/** The plaintext of `envelope` for the recipient's P-256 key, or EnvelopeError. */
export async function openEnvelope(envelope, recipientPrivateKey, recipientPublicHex, associatedData) {
  if (!envelope || envelope.suite !== SUITE) throw new EnvelopeError('unsupported envelope suite');
  let eph;
  let salt;
  let nonce;
  let ct;
  try {
    eph = fromHex(envelope.ephemeral_public_key);
    salt = fromHex(envelope.salt);
    nonce = fromHex(envelope.nonce);
    ct = fromHex(envelope.ciphertext);
  } catch (e) {
    throw new EnvelopeError('malformed envelope');
  }
  if (eph.length !== 65 || nonce.length !== 12 || ct.length < 16) throw new EnvelopeError('malformed envelope');
  try {
    const ephKey = await crypto.subtle.importKey('raw', eph, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
    const z = await crypto.subtle.deriveBits({ name: 'ECDH', public: ephKey }, recipientPrivateKey, 256);
    const ikm = await crypto.subtle.importKey('raw', z, 'HKDF', false, ['deriveKey']);
    const key = await crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt, info: utf8(INFO) },
      ikm,
      { name: 'AES-GCM', length: 256 },
      false,
      ['decrypt'],
    );
    const aad = concat(lp(SUITE), lp(eph), lp(fromHex(recipientPublicHex)), lp(associatedData));
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad }, key, ct));
  } catch (e) {
    throw new EnvelopeError('the envelope does not open');
  }
}

/** Associated data of a keyset envelope to a device (TrustModel.envelopeAd). */
export function keysetEnvelopeAd(workspaceId, version, deviceId) {
  return utf8(
    canonicalize({
      type: 'umbra-keyset-envelope/v1',
      workspace_id: workspaceId,
      keyset_version: version,
      recipient_kind: 'device',
      recipient_id: deviceId,
    }),
  );
}

/**
 * Opens this device's envelope ({keyset_version, envelope} from the control plane) and checks the
 * bundle is the verified `current` keyset (fields of its umbra-keyset/v1 document): same
 * workspace and version, and private keys whose public halves are the keyset's. Returns the bundle.
 */
async function openBundle(sealed, device, current) {
  if (!sealed || sealed.keyset_version !== current.version) {
    throw new EnvelopeError('the envelope is not of the current keyset version');
  }
  const plain = await openEnvelope(
    sealed.envelope,
    device.envelope.privateKey,
    device.p256PublicKey,
    keysetEnvelopeAd(current.workspace_id, current.version, device.deviceId),
  );
  let b;
  try {
    b = parse(new TextDecoder('utf-8', { fatal: true }).decode(plain));
  } catch (e) {
    throw new EnvelopeError('the keyset bundle is not canonical JSON');
  }
  if (b.format !== BUNDLE || b.workspace_id !== current.workspace_id || b.version !== current.version) {
    throw new EnvelopeError('the envelope holds another workspace or version');
  }
  const signing = await publicOf('Ed25519', b.signing_private_key, ['sign']);
  const encryption = await publicOf('X25519', b.encryption_private_key, ['deriveBits']);
  if (signing !== current.signing_public_key || encryption !== current.encryption_public_key) {
    throw new EnvelopeError('the keyset in the envelope is not the verified workspace keyset: refusing');
  }
  return b;
}

/** Checks this device's envelope opens to the verified current keyset (the bundle is dropped). Returns the version. */
export async function checkKeysetEnvelope(sealed, device, current) {
  await openBundle(sealed, device, current);
  return current.version;
}

/**
 * The workspace signing key, for one signature by this trusted device (a revocation, as the CLI
 * signs it): opened from the checked envelope as a non-extractable key; the caller drops it after.
 */
export async function workspaceSigningKey(sealed, device, current) {
  return importEd25519Seed((await openBundle(sealed, device, current)).signing_private_key);
}

/** The public key (hex) of a raw 32-byte private key, through a key that lives only here. */
async function publicOf(alg, privateHex, usages) {
  const raw = fromHex(privateHex);
  if (raw.length !== 32) throw new EnvelopeError('a keyset private key is 32 bytes');
  const key = await crypto.subtle.importKey('pkcs8', concat(PKCS8_PREFIX[alg], raw), { name: alg }, true, usages);
  const x = (await crypto.subtle.exportKey('jwk', key)).x;
  const b64 = x.replace(/-/g, '+').replace(/_/g, '/');
  return toHex(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
}
