// WebTTY payload format v2 (docs/crypto.md "WebTTY end-to-end", docs/webtty.md): key ids, HPKE key
// grants, AES-256-GCM payloads whose AAD binds role, stream, key, context, sender, counter, nonce
// and length, and the receivers' counter rule. Replayed against shared/crypto/conformance/webtty-*.

import { concat, equalBytes, lp, sha256, toHex, utf8 } from './bytes.js';
import { canonicalize } from './canonical-json.js';
import * as hpke from './hpke.js';

export const PAYLOAD_SUITE = 'aes-256-gcm';
export const KEY_ENVELOPE_SUITE = 'hpke-x25519-hkdf-sha256-aes-256-gcm';
const GRANT_DOMAIN = 'umbra-webtty-key/v2';
const PAYLOAD_DOMAIN = 'umbra-webtty-payload/v2';
const ROLES = new Set(['output', 'input']);
const STREAM_ROLE = { stdout: 'output', stderr: 'output', stdin: 'input', resize: 'input' };

export class WebTtyCryptoError extends Error {}

/** SHA-256("umbra-webtty-key-id/v1" ‖ x25519_public_key)[0:16]. */
export async function keyId(publicRaw) {
  return (await sha256(concat(utf8('umbra-webtty-key-id/v1'), publicRaw))).slice(0, 16);
}

/** The canonical JSON text of a key context (recipients: key ids as hex, sorted, no repeats). */
export function keyContextText(workspaceId, serverId, sessionId, recipientIds) {
  const recipients = [...new Set(recipientIds.map((r) => (typeof r === 'string' ? r : toHex(r))))].sort();
  if (recipients.length !== recipientIds.length) throw new WebTtyCryptoError('a recipient is listed twice');
  return canonicalize({ recipients, server_id: serverId, session_id: sessionId, workspace_id: workspaceId });
}

function role(r) {
  if (!ROLES.has(r)) throw new WebTtyCryptoError('unknown key role ' + r);
  return r;
}

export function grantInfo(keyRole, payloadKeyId, contextBytes) {
  return concat(lp(GRANT_DOMAIN), lp(role(keyRole)), lp(PAYLOAD_SUITE), lp(KEY_ENVELOPE_SUITE), lp(payloadKeyId), lp(contextBytes));
}

export function grantAad(recipientKeyId, keyRole, payloadKeyId, contextBytes) {
  return concat(
    lp(GRANT_DOMAIN),
    lp(recipientKeyId),
    lp(role(keyRole)),
    lp(PAYLOAD_SUITE),
    lp(KEY_ENVELOPE_SUITE),
    lp(payloadKeyId),
    lp(contextBytes),
  );
}

/** A grant of the 32-byte `key` (id `payloadKeyId`, `keyRole`) to `recipientPublic` under the context. */
export async function wrapGrant(keyRole, key, payloadKeyId, contextBytes, recipientPublic, ephemeral) {
  const recipientKeyId = await keyId(recipientPublic);
  const { enc, ciphertext } = await hpke.seal(
    recipientPublic,
    grantInfo(keyRole, payloadKeyId, contextBytes),
    grantAad(recipientKeyId, keyRole, payloadKeyId, contextBytes),
    key,
    ephemeral,
  );
  return {
    recipient_key_id: recipientKeyId,
    key_role: keyRole,
    payload_suite: PAYLOAD_SUITE,
    key_envelope_suite: KEY_ENVELOPE_SUITE,
    payload_key_id: payloadKeyId,
    enc,
    ciphertext,
  };
}

/**
 * The key a grant carries for our key pair, its info and AAD recomputed from the expected context
 * and role (a grant moved to another session, role or key id fails to open).
 */
export async function unwrapGrant(grant, keyRole, payloadKeyId, contextBytes, myPrivate, myPublic) {
  const me = await keyId(myPublic);
  if (!equalBytes(grant.recipient_key_id, me)) throw new WebTtyCryptoError('the grant is addressed to another key');
  if (grant.payload_suite !== PAYLOAD_SUITE || grant.key_envelope_suite !== KEY_ENVELOPE_SUITE) {
    throw new WebTtyCryptoError('unknown suite in a grant');
  }
  const key = await hpke.open(
    grant.enc,
    myPrivate,
    myPublic,
    grantInfo(keyRole, payloadKeyId, contextBytes),
    grantAad(me, keyRole, payloadKeyId, contextBytes),
    grant.ciphertext,
  );
  if (key.length !== 32) throw new WebTtyCryptoError('a payload key is 32 bytes');
  return key;
}

/** u64be of a Number, BigInt or decimal string (a vector's counter may exceed 2^53). */
function u64(n) {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

export function payloadAad(keyRole, stream, payloadKeyId, contextBytes, senderKeyId, counter, nonce, plaintextLength) {
  return concat(
    lp(PAYLOAD_DOMAIN),
    lp(keyRole),
    lp(stream),
    lp(PAYLOAD_SUITE),
    lp(payloadKeyId),
    lp(contextBytes),
    lp(senderKeyId),
    u64(counter),
    lp(nonce),
    u64(plaintextLength),
  );
}

/** One payload key (output or input) of a session: seals and opens payloads of its role's streams. */
export class PayloadCipher {
  static async create(keyRole, rawKey, payloadKeyId, contextBytes) {
    const key = await crypto.subtle.importKey('raw', rawKey, 'AES-GCM', false, ['encrypt', 'decrypt']);
    return new PayloadCipher(role(keyRole), key, payloadKeyId, contextBytes);
  }

  constructor(keyRole, key, payloadKeyId, contextBytes) {
    this.role = keyRole;
    this.key = key;
    this.keyId = payloadKeyId;
    this.context = contextBytes;
  }

  check(stream) {
    if (STREAM_ROLE[stream] !== this.role) throw new WebTtyCryptoError('stream ' + stream + ' is not under the ' + this.role + ' key');
  }

  /** A `Sealed` (proto field names) of `plaintext` on `stream` from `sender` with `counter`. */
  async seal(stream, senderKeyId, counter, plaintext, nonce) {
    this.check(stream);
    const n = nonce || crypto.getRandomValues(new Uint8Array(12));
    const aad = payloadAad(this.role, stream, this.keyId, this.context, senderKeyId, counter, n, plaintext.length);
    const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: n, additionalData: aad }, this.key, plaintext));
    return {
      payload_suite: PAYLOAD_SUITE,
      payload_key_id: this.keyId,
      nonce: n,
      ciphertext,
      plaintext_length: plaintext.length,
      sender_key_id: senderKeyId,
      counter,
    };
  }

  /** The plaintext of a `Sealed` on `stream`; throws on another key, suite, shape or a bad tag. */
  async open(stream, sealed) {
    this.check(stream);
    const n = sealed.nonce || new Uint8Array(0);
    const ct = sealed.ciphertext || new Uint8Array(0);
    const length = sealed.plaintext_length || 0;
    const sender = sealed.sender_key_id || new Uint8Array(0);
    if (sealed.payload_suite !== PAYLOAD_SUITE || !equalBytes(sealed.payload_key_id || new Uint8Array(0), this.keyId)) {
      throw new WebTtyCryptoError('a payload under another key or suite');
    }
    if (n.length !== 12 || sender.length !== 16 || ct.length !== length + 16) {
      throw new WebTtyCryptoError('a malformed payload');
    }
    const aad = payloadAad(this.role, stream, this.keyId, this.context, sender, sealed.counter || 0, n, length);
    try {
      return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: n, additionalData: aad }, this.key, ct));
    } catch (e) {
      throw new WebTtyCryptoError('a payload did not authenticate');
    }
  }
}

/**
 * The receivers' counter rule (PayloadCounters): per (payload key, sender), 'in_order', 'repeat'
 * (below the expected counter: refuse, the position stays) or 'gap' with how many are missing.
 * `firstSeen` (a viewer joining a live session) takes the first counter seen as the start.
 */
export class Counters {
  constructor(firstSeen) {
    this.firstSeen = firstSeen;
    this.next = new Map();
  }

  observe(payloadKeyId, senderKeyId, counter) {
    const k = toHex(payloadKeyId) + '/' + toHex(senderKeyId);
    let expected = this.next.get(k);
    if (expected === undefined) {
      if (this.next.size >= 4096) throw new WebTtyCryptoError('too many senders');
      expected = this.firstSeen ? counter : 0;
    }
    if (counter < expected) return { kind: 'repeat' };
    this.next.set(k, counter + 1);
    return counter === expected ? { kind: 'in_order' } : { kind: 'gap', missing: counter - expected };
  }
}
