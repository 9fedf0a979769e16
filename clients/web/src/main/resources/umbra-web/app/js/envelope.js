// The keyset envelope sealed to this browser (docs/crypto.md "Workspace key envelopes",
// docs/device-trust.md "Envelope format"): P-256 ECDH with the envelope's ephemeral key (Z = the
// x-coordinate), HKDF-SHA256(Z, salt, "umbra.workspace_key_envelope.v1") → AES-256-GCM key,
// aad = lp(suite) lp(ephemeral_public_key) lp(recipient_public_key) lp(associated_data).
// After approval the page opens it and checks it holds exactly the verified current keyset, as
// `umbra device trust` does; the private bundle is dropped at once (nothing keeps it). A trusted
// browser opens it again for one action — a revocation, an approval (the bundle re-sealed to the
// new device, as `umbra devices approve` does), a vault entry — and drops it after.

import { concat, fromHex, lp, toHex, utf8 } from './bytes.js';
import { canonicalize, parse } from './canonical-json.js';
import { PKCS8_PREFIX, importEd25519Seed } from './signatures.js';

const SUITE = 'p256-ecdh-hkdf-sha256-aes-256-gcm';
const INFO = 'umbra.workspace_key_envelope.v1';
const BUNDLE = 'umbra-keyset-bundle/v1';

export class EnvelopeError extends Error {}

/** The AES-256-GCM key of an envelope: HKDF-SHA256 over the x-coordinate of P-256 ECDH. */
async function envelopeKey(publicKey, privateKey, salt, usage) {
  const z = await crypto.subtle.deriveBits({ name: 'ECDH', public: publicKey }, privateKey, 256);
  const ikm = await crypto.subtle.importKey('raw', z, 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt, info: utf8(INFO) },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    [usage],
  );
}

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
    const key = await envelopeKey(ephKey, recipientPrivateKey, salt, 'decrypt');
    const aad = concat(lp(SUITE), lp(eph), lp(fromHex(recipientPublicHex)), lp(associatedData));
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad }, key, ct));
  } catch (e) {
    throw new EnvelopeError('the envelope does not open');
  }
}

/**
 * Seals `plaintext` to a P-256 public key (65-byte uncompressed point, hex) as WorkspaceKeyEnvelopes
 * does: a fresh ephemeral key, 32 random salt bytes, a random nonce. Members in canonical order.
 */
export async function sealEnvelope(plaintext, recipientPublicHex, associatedData) {
  const recipientRaw = fromHex(recipientPublicHex);
  if (recipientRaw.length !== 65) throw new EnvelopeError('a P-256 public key is a 65-byte point');
  const recipient = await crypto.subtle.importKey('raw', recipientRaw, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const eph = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const ephRaw = new Uint8Array(await crypto.subtle.exportKey('raw', eph.publicKey));
  const salt = crypto.getRandomValues(new Uint8Array(32));
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const key = await envelopeKey(recipient, eph.privateKey, salt, 'encrypt');
  const aad = concat(lp(SUITE), lp(ephRaw), lp(recipientRaw), lp(associatedData));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad }, key, plaintext));
  return { ciphertext: toHex(ct), ephemeral_public_key: toHex(ephRaw), nonce: toHex(nonce), salt: toHex(salt), suite: SUITE };
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
  const { bundle, plain } = await openChecked(sealed, device, current);
  plain.fill(0);
  return bundle;
}

/** openBundle, with the plaintext (canonical JSON bytes) the bundle was parsed from. */
async function openChecked(sealed, device, current) {
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
  return { bundle: b, plain };
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

/**
 * What approving a device takes, as `umbra devices approve` does it: the workspace signing key (a
 * non-extractable key, for the credential) and the checked bundle sealed to the new device's P-256
 * key under the envelope's associated data naming workspace, version and that device. The plaintext
 * is zeroed once sealed; the caller drops the key after its one signature.
 */
export async function approvalKeys(sealed, device, current, recipientP256Hex, recipientDeviceId) {
  const { bundle, plain } = await openChecked(sealed, device, current);
  try {
    const envelope = await sealEnvelope(
      plain,
      recipientP256Hex,
      keysetEnvelopeAd(current.workspace_id, current.version, recipientDeviceId),
    );
    return { signingKey: await importEd25519Seed(bundle.signing_private_key), envelope };
  } finally {
    plain.fill(0);
  }
}

/**
 * The workspace encryption private key of keyset version `link.version` (the current one or an
 * earlier one the bundle carries), imported non-extractable for one vault entry, after checking its
 * public half is the encryption key of that version in the verified chain (`link`).
 */
export async function vaultKey(sealed, device, current, link) {
  const b = await openBundle(sealed, device, current);
  const hex =
    link.version === b.version
      ? b.encryption_private_key
      : b.previous_encryption_private_keys && b.previous_encryption_private_keys[String(link.version)];
  if (typeof hex !== 'string') throw new EnvelopeError('this keyset holds no key of version ' + link.version);
  if ((await publicOf('X25519', hex, ['deriveBits'])) !== link.encryption_public_key) {
    throw new EnvelopeError('the keyset\'s key of version ' + link.version + ' is not the one the workspace chain names: refusing');
  }
  return crypto.subtle.importKey('pkcs8', concat(PKCS8_PREFIX.X25519, fromHex(hex)), { name: 'X25519' }, false, ['deriveBits']);
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
