// This browser as a device of a workspace: its keys (WebCrypto, non-extractable private halves)
// and its signed trust request (umbra-device-request/v1, docs/device-trust.md).
//
//   Ed25519  identity: signs the request and later proofs
//   P-256    ECDH: receives the keyset envelope (P-256 ECDH + HKDF-SHA256 + AES-256-GCM)
//   X25519   the WebTTY key output keys are granted to (umbra-device-webtty-key/v1)

import { toHex } from './bytes.js';
import { canonicalize } from './canonical-json.js';
import { signText } from './signatures.js';

export const KIND = 'browser';

async function rawPublic(key) {
  return toHex(await crypto.subtle.exportKey('raw', key));
}

/** New keys and a new device id for `workspaceId`; the private keys can never be exported. */
export async function createDevice(workspaceId, name) {
  const signing = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
  const envelope = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const webtty = await crypto.subtle.generateKey({ name: 'X25519' }, false, ['deriveBits']);
  return {
    workspaceId,
    deviceId: crypto.randomUUID(),
    name,
    signing,
    envelope,
    webtty,
    ed25519PublicKey: await rawPublic(signing.publicKey),
    p256PublicKey: await rawPublic(envelope.publicKey), // 65-byte uncompressed point
    x25519PublicKey: await rawPublic(webtty.publicKey),
    rootSigningKey: null, // the workspace's version-1 signing key, pinned at first sight
  };
}

/** The fields of this device's request (TrustModel.Request). */
export function requestFields(device, timestampMs) {
  return {
    type: 'umbra-device-request/v1',
    workspace_id: device.workspaceId,
    device_id: device.deviceId,
    ed25519_public_key: device.ed25519PublicKey,
    p256_public_key: device.p256PublicKey,
    name: device.name,
    kind: KIND,
    timestamp_ms: timestampMs,
  };
}

/** A signed document: canonical payload text and the Ed25519 signature over its UTF-8 bytes. */
export async function signFields(privateKey, fields) {
  const payload = canonicalize(fields);
  return { payload, signature: await signText(privateKey, payload) };
}

export function signedRequest(device, timestampMs) {
  return signFields(device.signing.privateKey, requestFields(device, timestampMs));
}
