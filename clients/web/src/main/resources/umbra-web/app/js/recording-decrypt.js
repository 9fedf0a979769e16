// A recording decrypted in the page (docs/web.md "Recordings"), by the rules of the CLI's
// RecordingDecryptor (docs/webtty.md "Recordings"): the signed hello and the opener's signed proof
// of the header are verified and must name this workspace, session and machine; the output key is
// this browser's grant in the proof (or in a daemon-signed output-key epoch of a share); every
// output event opens under its exact AAD (a bad tag fails the whole replay) and its counter is
// checked: a missing event is reported at its spot, a repeated one is reported and not rendered.
// Stdin is not read here (the CLI's export leaves it out too unless asked).

import { fromHex, toHex, utf8 } from './bytes.js';
import { canonicalize } from './canonical-json.js';
import { RecordedKind, decodeRecording } from './proto.js';
import { Counters, KEY_ENVELOPE_SUITE, PAYLOAD_SUITE, PayloadCipher, keyId, unwrapGrant } from './webtty-crypto.js';
import { WebTtyError, signedDocument } from './webtty.js';
import { continuity, epochContextText, verifyEpoch } from './webtty-epochs.js';

const HELLO_TYPE = 'umbra-webtty-server-hello/v2';
const PROOF_TYPE = 'umbra-webtty-client-proof/v2';
const INPUT_KEY_TYPE = 'umbra-webtty-input-key/v2';
const OUTPUT_STREAMS = { 2: 'stdout', 3: 'stderr' };
const STDIN = 1;

function refuse(message) {
  throw new WebTtyError('recording_refused', message);
}

async function openGrant(g, keyRole, payloadKeyId, context, me) {
  return unwrapGrant(
    { recipient_key_id: me.id, payload_suite: g.payload_suite || PAYLOAD_SUITE, key_envelope_suite: g.key_envelope_suite || KEY_ENVELOPE_SUITE, enc: fromHex(g.enc), ciphertext: fromHex(g.ciphertext) },
    keyRole,
    payloadKeyId,
    context,
    me.privateKey,
    me.publicRaw,
  );
}

async function cipherFrom(g, keyIdHex, context, me) {
  const id = fromHex(keyIdHex);
  const key = await openGrant(g, 'output', id, context, me);
  const c = await PayloadCipher.create('output', key, id, context);
  key.fill(0);
  return c;
}

/**
 * The chunks of a replay stream for this browser's WebTTY key `me` ({privateKey, publicRaw}):
 * {sequence, timeMs, kind: 'output'|'resize'|'exit'|'note', bytes, cols, rows, exitStatus, note}.
 */
export async function decryptRecording(bytes, workspaceId, me) {
  const { header, events } = decodeRecording(bytes);
  const hello = await signedDocument(header.server_hello, HELLO_TYPE);
  const proof = await signedDocument(header.client_proof, PROOF_TYPE);
  if (hello.workspace_id !== workspaceId || hello.session_id !== header.session_id || hello.server_id !== proof.server_id) {
    refuse('recording hello is for another session');
  }
  if (proof.workspace_id !== workspaceId || proof.session_id !== header.session_id || proof.server_id !== header.server_id) {
    refuse('recording proof is for another session');
  }
  const my = Object.assign({ id: await keyId(me.publicRaw) }, me);
  const myHex = toHex(my.id);
  const grant0 = (proof.grants || []).find((g) => g.key_role === 'output' && g.recipient_key_id === myHex);
  if (!grant0 && !events.some((e) => e.kind === RecordedKind.OUTPUT_KEY)) {
    refuse("the session's output key was not granted to this key");
  }
  const r = {
    ids: { workspaceId, serverId: header.server_id, sessionId: header.session_id },
    signer: hello.server_signing_key,
    output: grant0 ? await cipherFrom(grant0, proof.output_key_id, utf8(canonicalize(proof.key_context)), my) : null,
    outputKeyId: proof.output_key_id,
    epoch: 0,
    recipients: proof.key_context.recipients,
    counters: new Counters(false),
    unreadable: new Set(),
    out: [],
  };
  let expected = 1;
  for (const e of events) {
    const seq = e.sequence || 0;
    if (seq < expected) refuse('recording events out of order');
    expected = seq + 1;
    await step(r, e, my);
  }
  return { sessionId: header.session_id, serverId: header.server_id, startedMs: header.started_unix_ms || 0, size: header.initial_size || {}, chunks: r.out };
}

function chunk(e, kind, extra) {
  return Object.assign({ sequence: e.sequence || 0, timeMs: e.time_unix_ms || 0, kind }, extra);
}

function note(r, e, text) {
  r.out.push(chunk(e, 'note', { note: text }));
}

async function step(r, e, my) {
  switch (e.kind) {
    case RecordedKind.DATA:
      return data(r, e);
    case RecordedKind.RESIZE:
      return r.out.push(chunk(e, 'resize', { cols: (e.size || {}).cols || 0, rows: (e.size || {}).rows || 0 }));
    case RecordedKind.INPUT_KEY:
      // verified under the hello's server key (a forged one fails the replay); stdin is not read here
      return signedDocument(e.input_key_grant, INPUT_KEY_TYPE, r.signer);
    case RecordedKind.OUTPUT_KEY:
      return outputKey(r, e, my);
    case RecordedKind.EXIT:
      return r.out.push(chunk(e, 'exit', { exitStatus: e.exit_status || 0 }));
    default:
      return refuse('unknown recording event kind');
  }
}

async function data(r, e) {
  if (e.stream === STDIN) return;
  const stream = OUTPUT_STREAMS[e.stream];
  if (!stream) refuse('an event of an unknown stream');
  const s = e.sealed || {};
  const keyHex = toHex(s.payload_key_id || new Uint8Array(0));
  if (keyHex !== r.outputKeyId) {
    return note(r, e, 'output under a retired or unknown output key ' + keyHex + ' at event ' + e.sequence + ', not rendered');
  }
  if (!r.output) {
    if (!r.unreadable.has(keyHex)) {
      r.unreadable.add(keyHex);
      note(r, e, 'output under output key ' + keyHex + " is not readable with this device's keys (it was added to the session later)");
    }
    return;
  }
  const plain = await r.output.open(stream, s);
  const counter = s.counter || 0;
  const v = r.counters.observe(s.payload_key_id, s.sender_key_id || new Uint8Array(0), counter);
  if (v.kind === 'repeat') {
    return note(r, e, 'repeated: output frame with counter ' + counter + ' at event ' + e.sequence + ' (expected ' + expectedOf(r, s) + '), not rendered');
  }
  if (v.kind === 'gap') {
    note(r, e, 'missing: ' + v.missing + ' output frame(s) before event ' + e.sequence + ' (counter ' + (counter - v.missing) + ' to ' + (counter - 1) + ')');
  }
  r.out.push(chunk(e, 'output', { bytes: plain }));
}

function expectedOf(r, s) {
  return String(r.counters.next.get(toHex(s.payload_key_id) + '/' + toHex(s.sender_key_id || new Uint8Array(0))));
}

/** A share: the next epoch under the hello's server key, or reported and ignored (as the CLI). */
async function outputKey(r, e, my) {
  const k = await verifyEpoch(e.output_key_epoch, r.signer, r.ids);
  try {
    if (continuity(k, r.epoch, r.outputKeyId, r.recipients) === 'replayed') throw new Error('not the next epoch');
  } catch (x) {
    return note(r, e, 'an output-key epoch out of place was ignored (epoch ' + k.epoch + ')');
  }
  r.epoch = k.epoch;
  r.outputKeyId = k.output_key_id;
  r.recipients = k.key_context.recipients;
  const mine = k.grants.find((g) => g.recipient_key_id === toHex(my.id));
  r.output = mine ? await cipherFrom(mine, k.output_key_id, utf8(epochContextText(k)), my) : null;
  note(r, e, 'output-key epoch ' + k.epoch + ': ' + k.key_context.recipients.length + ' recipient(s) from event ' + e.sequence + ' on');
}
