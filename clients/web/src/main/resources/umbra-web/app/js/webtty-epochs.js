// Output-key epochs (docs/webtty.md "Adding a recipient to a live session", docs/crypto.md): the
// daemon-signed umbra-webtty-output-key/v2 document that starts a new output key when a session is
// shared. Checked as OutputKeyEpoch does: the signature under the pinned server key first, then
// exactly these members, our suites, an epoch of 1..256, a key context of this session with sorted
// recipients, and exactly one grant per recipient; then, for a receiver, continuity.

import { canonicalize } from './canonical-json.js';
import { KEY_ENVELOPE_SUITE, PAYLOAD_SUITE } from './webtty-crypto.js';
import { WebTtyError, signedDocument } from './webtty.js';

export const OUTPUT_KEY_TYPE = 'umbra-webtty-output-key/v2';
const MEMBERS = [
  'epoch',
  'grants',
  'key_context',
  'key_envelope_suite',
  'output_key_id',
  'payload_suite',
  'previous_output_key_id',
  'server_id',
  'session_id',
  'time_ms',
  'type',
  'workspace_id',
];
const HEX16 = /^[0-9a-f]{32}$/;

function refuse(why) {
  throw new WebTtyError('output_key_refused', 'output-key epoch refused: ' + why);
}

function exactly(obj, members) {
  return obj && typeof obj === 'object' && !Array.isArray(obj) && JSON.stringify(Object.keys(obj).sort()) === JSON.stringify(members);
}

/** The verified document of a SignedMessage, for the session `ids` ({workspaceId, serverId, sessionId}). */
export async function verifyEpoch(m, pinnedServerKey, ids) {
  const e = await signedDocument(m, OUTPUT_KEY_TYPE, pinnedServerKey);
  if (!exactly(e, MEMBERS)) refuse('not exactly the members of an output-key document');
  if (e.payload_suite !== PAYLOAD_SUITE || e.key_envelope_suite !== KEY_ENVELOPE_SUITE) refuse('another suite');
  if (!Number.isInteger(e.epoch) || e.epoch < 1 || e.epoch > 256) refuse('epoch outside 1..256');
  if (!HEX16.test(e.output_key_id) || !HEX16.test(e.previous_output_key_id) || e.output_key_id === e.previous_output_key_id) {
    refuse('bad key ids');
  }
  const c = e.key_context;
  if (!exactly(c, ['recipients', 'server_id', 'session_id', 'workspace_id'])) refuse('bad key context');
  if (c.workspace_id !== e.workspace_id || c.server_id !== e.server_id || c.session_id !== e.session_id) refuse('context of another session');
  if (e.workspace_id !== ids.workspaceId || e.server_id !== ids.serverId || e.session_id !== ids.sessionId) refuse('another session');
  const r = c.recipients;
  if (!Array.isArray(r) || r.length === 0 || r.length > 64 || !r.every((x, i) => HEX16.test(x) && (i === 0 || r[i - 1] < x))) {
    refuse('recipients not sorted key ids');
  }
  const granted = (Array.isArray(e.grants) ? e.grants : []).map((g) => {
    if (!exactly(g, ['ciphertext', 'enc', 'recipient_key_id'])) refuse('bad grant');
    return g.recipient_key_id;
  });
  if (JSON.stringify([...granted].sort()) !== JSON.stringify(r)) refuse('grants are not exactly the recipients');
  return e;
}

/**
 * The receiver's rule: 'replayed' for an epoch already passed (ignored), else the document must be
 * exactly the next epoch, retire the key held and keep every current recipient (a share only adds).
 */
export function continuity(e, lastEpoch, heldKeyIdHex, currentRecipients) {
  if (e.epoch <= lastEpoch) return 'replayed';
  if (e.epoch !== lastEpoch + 1) refuse('not the next epoch');
  if (e.previous_output_key_id !== heldKeyIdHex) refuse('retires another key');
  const next = new Set(e.key_context.recipients);
  if (!currentRecipients.every((x) => next.has(x))) refuse('drops a recipient');
  return 'next';
}

/** The context's canonical text (its bytes enter every grant and payload of the epoch). */
export function epochContextText(e) {
  return canonicalize(e.key_context);
}
