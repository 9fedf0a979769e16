// The audit log's hash chain (docs/audit.md, section 5), re-verified in the page with WebCrypto
// SHA-256, as the script of that section and `umbra audit verify` check it: the page never takes
// the server's word that the log is whole.

import { concat, equalBytes, fromHex, lp, sha256, toHex, utf8 } from './bytes.js';

const ZERO = new Uint8Array(32);
const KINDS = ['member', 'machine', 'device', 'service', 'anonymous'];
const OUTCOMES = ['success', 'failure', 'denied'];

class Broken extends Error {
  constructor(reason, detail) {
    super(detail);
    this.reason = reason;
  }
}

function str(value, field) {
  if (typeof value !== 'string') throw new Broken('malformed_row', field + ' is not a string');
  return value;
}

function i64be(n) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(n));
  return out;
}

function u64be(n) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

function compareBytes(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** canonical(e) of docs/audit.md section 5 (metadata sorted by the UTF-8 bytes of its keys). */
export function canonicalEvent(e, workspaceId) {
  const actor = e.actor || {};
  if (!KINDS.includes(actor.kind)) throw new Broken('malformed_row', 'unknown actor kind');
  if (!OUTCOMES.includes(e.outcome)) throw new Broken('malformed_row', 'unknown outcome');
  if (!Number.isSafeInteger(e.time_unix_ms)) throw new Broken('malformed_row', 'time_unix_ms is not an integer');
  const meta = e.metadata === undefined ? {} : e.metadata;
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) throw new Broken('malformed_row', 'metadata is not an object');
  const pairs = Object.keys(meta)
    .map((k) => [utf8(k), utf8(str(meta[k], 'metadata value'))])
    .sort((a, b) => compareBytes(a[0], b[0]));
  const count = new Uint8Array(4);
  new DataView(count.buffer).setUint32(0, pairs.length);
  return concat(
    lp('umbra-audit-event/v1'),
    ...[str(e.id, 'id'), workspaceId, actor.kind, str(actor.id, 'actor id'), str(e.action, 'action'), str(e.target, 'target'), e.outcome].map(lp),
    i64be(e.time_unix_ms),
    ...[str(e.source_ip, 'source_ip'), str(e.request_id, 'request_id'), str(e.service, 'service')].map(lp),
    count,
    ...pairs.flatMap(([k, v]) => [lp(k), lp(v)]),
  );
}

/** hash(seq) = SHA-256(lp("umbra-audit-chain/v1") || hash(seq-1) || u64be(seq) || lp(canonical(e))). */
export async function chainHash(prev, seq, canonical) {
  return sha256(concat(lp('umbra-audit-chain/v1'), prev, u64be(seq), lp(canonical)));
}

function hashField(e, field) {
  try {
    const b = fromHex(e[field]);
    if (b.length === 32) return b;
  } catch (err) {
    // reported below
  }
  throw new Broken('malformed_row', field + ' is not 32 bytes of hex');
}

/**
 * Verifies a full chain (every event of the workspace, oldest first, as the export gives it):
 * sequence numbers from 1 without gaps, each prev_hash the previous hash, each hash recomputed
 * here. Returns {ok: true, checked, head} or {ok: false, checked, seq, eventId, reason, detail}
 * with the first broken link (the reasons of docs/audit.md section 6 where they apply).
 */
export async function verifyAuditChain(events, workspaceId) {
  let prev = ZERO;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const seq = i + 1;
    try {
      if (e.workspace_id !== workspaceId) throw new Broken('other_workspace', 'an event of another workspace');
      if (e.seq !== seq) throw new Broken('missing', 'expected seq ' + seq + ', got ' + e.seq);
      if (!equalBytes(hashField(e, 'prev_hash'), prev)) throw new Broken('prev_hash_mismatch', 'prev_hash is not the previous hash');
      const h = await chainHash(prev, seq, canonicalEvent(e, workspaceId));
      if (!equalBytes(hashField(e, 'hash'), h)) throw new Broken('hash_mismatch', 'the event does not hash to its hash');
      prev = h;
    } catch (err) {
      if (!(err instanceof Broken)) throw err;
      return { ok: false, checked: i, seq, eventId: typeof e.id === 'string' ? e.id : '', reason: err.reason, detail: err.message };
    }
  }
  return { ok: true, checked: events.length, head: toHex(prev) };
}
