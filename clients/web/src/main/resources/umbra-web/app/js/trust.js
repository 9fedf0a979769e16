// Workspace Protection, verified in the page (docs/device-trust.md): the keyset chain from its
// pinned root, signed documents, and whether a device row's credential is one the workspace key
// signed. The control plane's word alone never makes anything trusted here.

import { parseCanonical } from './canonical-json.js';
import { verifyText } from './signatures.js';

const MAX_PAYLOAD = 4096;

export class TrustError extends Error {}

/** The members of a signed document of `type` whose signature verifies under `signerHex`. */
export async function verifiedFields(signed, type, signerHex) {
  const fields = parseSigned(signed, type);
  if (!(await verifyText(signerHex, signed.payload, signed.signature))) {
    throw new TrustError('the signature of a ' + type + ' document does not verify');
  }
  return fields;
}

/** The members of a signed document of `type`, unverified (its text must be canonical). */
export function parseSigned(signed, type) {
  if (!signed || typeof signed.payload !== 'string' || typeof signed.signature !== 'string') {
    throw new TrustError('not a signed document');
  }
  if (signed.payload.length > MAX_PAYLOAD) throw new TrustError('signed payload too long');
  let fields;
  try {
    fields = parseCanonical(signed.payload);
  } catch (e) {
    throw new TrustError('a signed payload is not canonical JSON: ' + e.message);
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields) || fields.type !== type) {
    throw new TrustError('expected a ' + type + ' document');
  }
  return fields;
}

/**
 * The keyset chain of GET .../keyset verified link by link: version 1 self-signed, version n+1
 * signed by version n, all of `workspaceId`. `pinnedRoot` (hex) is the version-1 signing key this
 * browser saw before, if any: another root is refused. Returns the root, the current keyset and
 * every link's fields (`links[v - 1]` is version v: the vault opens entries of earlier versions).
 */
export async function verifyChain(chain, workspaceId, pinnedRoot) {
  const docs = chain && Array.isArray(chain.keysets) ? chain.keysets : [];
  if (docs.length === 0) throw new TrustError('this workspace has no keyset yet');
  let previous = null;
  let root = null;
  const links = [];
  for (let i = 0; i < docs.length; i++) {
    const f = parseSigned(docs[i], 'umbra-keyset/v1');
    if (f.workspace_id !== workspaceId || f.version !== i + 1) {
      throw new TrustError('the keyset chain has a gap, a fork or another workspace\'s link');
    }
    const signer = previous ? previous.signing_public_key : f.signing_public_key;
    await verifiedFields(docs[i], 'umbra-keyset/v1', signer);
    if (i === 0) root = f.signing_public_key;
    links.push(f);
    previous = f;
  }
  if (chain.current_version !== previous.version) {
    throw new TrustError('the control plane names another current keyset version than its chain');
  }
  if (pinnedRoot && pinnedRoot !== root) {
    throw new TrustError('the workspace key changed since this browser first saw it: refusing');
  }
  return { root, current: previous, links };
}

/**
 * Whether a device row is trusted by the workspace key: its credential verifies under the current
 * signing key, is of the current version and names exactly the keys the device's self-signed
 * request names (and, for this browser, its own keys). Returns 'yes', 'no' or 'forged'.
 */
export async function credentialVerdict(row, workspaceId, current, ownKeys) {
  let request;
  try {
    request = parseSigned(row.request, 'umbra-device-request/v1');
    if (!(await verifyText(request.ed25519_public_key, row.request.payload, row.request.signature))) {
      return 'forged';
    }
    if (request.workspace_id !== workspaceId || request.device_id !== row.id) return 'forged';
  } catch (e) {
    return 'forged';
  }
  if (row.status !== 'trusted' || !row.credential) return 'no';
  try {
    const c = await verifiedFields(row.credential, 'umbra-device-credential/v1', current.signing_public_key);
    const same =
      c.workspace_id === workspaceId &&
      c.device_id === request.device_id &&
      c.keyset_version === current.version &&
      c.ed25519_public_key === request.ed25519_public_key &&
      c.p256_public_key === request.p256_public_key &&
      (!ownKeys || (c.ed25519_public_key === ownKeys.ed25519 && c.p256_public_key === ownKeys.p256));
    return same ? 'yes' : 'no';
  } catch (e) {
    return 'no';
  }
}

/**
 * The X25519 key (hex) of a device's WebTTY key binding (umbra-device-webtty-key/v1,
 * docs/webtty.md "Recipients"), or null: the binding must be signed by the key the device's
 * credential names (a credential the caller verified under the current keyset) and name this
 * workspace and device. The control plane can withhold a binding, never make one.
 */
export async function verifiedWebttyKey(row, workspaceId) {
  try {
    if (!row.webtty_key || !row.credential) return null;
    const c = parseSigned(row.credential, 'umbra-device-credential/v1');
    const k = await verifiedFields(row.webtty_key, 'umbra-device-webtty-key/v1', c.ed25519_public_key);
    const ok =
      Object.keys(k).length === 5 &&
      k.workspace_id === workspaceId &&
      k.device_id === row.id &&
      c.device_id === row.id &&
      typeof k.issued_at === 'string' &&
      /^[0-9a-f]{64}$/.test(k.x25519_public_key || '');
    return ok ? k.x25519_public_key : null;
  } catch (e) {
    return null;
  }
}
