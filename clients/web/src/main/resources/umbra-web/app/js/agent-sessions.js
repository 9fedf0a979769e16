// Agent sessions in the page (docs/web.md "Agent sessions"; docs/agents.md "Agent sessions"): what
// `umbra agent-session list|start|attach|transcript` do, over the page's own relay channel
// (relay-channel.js): Noise IK end to end to the machine's daemon, the relay seeing ciphertext only.
// The daemon's static key is the machine record's X25519 key, pinned in this browser on first use
// as the CLI pins it; a later record with another key is refused before anything is sent. Session
// frames are shown as text (textContent), numbered by the daemon: a frame at or below the last
// number shown is skipped as a repeat, one that is not a frame ends the channel.

import { fromHex } from './bytes.js';
import { saveDevice } from './device-store.js';
import { generateX25519, relayPsk } from './noise.js';
import { ChannelStream, RelayConnection, deviceProof } from './relay-channel.js';
import { el, fillMachines, printable, setText, show } from './view.js';

const SESSION_TYPES = new Set(['status', 'output', 'tool_call', 'tool_result', 'approval_request', 'inbox_request', 'inbox_raised', 'inbox_decision', 'prompt', 'approval', 'exit']);
const OTHER_TYPES = new Set(['notice', 'sessions', 'page']);
const MAX_SHOWN = 2000; // frames kept on screen; older ones are in the transcript

let ctx = null; // {api, workspace, device, credential, machines}
let watch = null; // {channel, conn, sessionId, lastSeq}
let pageFrom = 1;

function $(id) {
  return document.getElementById(id);
}

function setState(state, detail) {
  $('agent-state').dataset.state = state;
  setText('agent-state', state + (detail ? ' — ' + detail : ''));
}

/** Shows the panel for a trusted browser (its credential goes into every channel's message 1). */
export function enableAgentSessions(api, workspace, device, credential, machines) {
  ctx = { api, workspace, device, credential, machines };
  fillMachines('agent-machine', machines);
  show('agents', true);
}

export function disableAgentSessions() {
  detachSession();
  ctx = null;
  show('agents', false);
}

/**
 * The machine's relay static key: its record's X25519 key, which must be the one this browser
 * pinned for it (first use pins it). Throws before anything is sent when it changed.
 */
async function pinnedDaemonKey(machineId) {
  const m = ctx.machines.find((x) => x.id === machineId);
  if (!m || typeof m.x25519_public_key !== 'string' || !/^[0-9a-f]{64}$/.test(m.x25519_public_key)) {
    throw new Error('machine ' + machineId + ' has no relay key in the workspace');
  }
  const pins = ctx.device.relayPins || (ctx.device.relayPins = {});
  if (pins[machineId] && pins[machineId] !== m.x25519_public_key) {
    throw new Error('the relay key of machine ' + machineId + ' changed since this browser pinned it; refusing to send anything');
  }
  if (!pins[machineId]) {
    pins[machineId] = m.x25519_public_key;
    await saveDevice(ctx.device);
  }
  return fromHex(m.x25519_public_key);
}

/** This browser's Noise static key for relay channels (non-extractable, kept with the device). */
async function staticKey() {
  if (!ctx.device.relayKey) {
    ctx.device.relayKey = await generateX25519();
    await saveDevice(ctx.device);
  }
  return ctx.device.relayKey;
}

async function relayUrl() {
  const d = await ctx.api.get('/v1/discovery');
  const url = d && d.services && d.services.relay;
  const m = typeof url === 'string' && /^(https?):\/\/([^/?#]+)/.exec(url);
  if (!m) throw new Error('the discovery document names no relay');
  return (m[1] === 'https' ? 'wss://' : 'ws://') + m[2] + '/v1/relay';
}

/** A relay connection of this page, and the pinned key of the chosen machine. */
async function connection() {
  const target = $('agent-machine').value;
  if (!target) throw new Error('choose a machine');
  const daemonKey = await pinnedDaemonKey(target);
  const key = await staticKey();
  const { workspace, device, credential } = ctx;
  const pskText = $('agent-psk').value;
  const t = await ctx.api.post('/v1/sessions', { workspace_id: workspace, audience: 'relay', device_id: device.deviceId });
  const conn = new RelayConnection({
    url: await relayUrl(),
    token: t.token,
    workspaceId: workspace,
    staticKey: key,
    psk: pskText ? await relayPsk(workspace, pskText) : null,
    proofFor: (tgt) => deviceProof(credential, device.signing.privateKey, workspace, tgt, key.publicRaw),
  });
  await conn.connect();
  return { conn, target, daemonKey };
}

/**
 * Admits one frame from the daemon: a JSON object of a known type, session frames numbered; null for
 * a repeat (at or below `state.lastSeq`). Throws for anything that is not a frame.
 */
export function admitFrame(bytes, state) {
  const f = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  if (!f || typeof f !== 'object' || Array.isArray(f) || typeof f.type !== 'string') throw new Error('not a frame');
  if (SESSION_TYPES.has(f.type)) {
    if (!Number.isSafeInteger(f.seq) || f.seq < 1) throw new Error('a session frame without its number');
    if (f.seq <= state.lastSeq) return null; // a repeat (a re-attach overlapping what was shown)
    state.lastSeq = f.seq;
  } else if (!OTHER_TYPES.has(f.type)) {
    throw new Error('unknown frame type');
  }
  return f;
}

/** One frame as a line of text. */
export function frameText(f) {
  const parts = [f.seq ? '#' + f.seq : '', f.type];
  const add = (k) => {
    if (f[k] !== undefined && f[k] !== null) parts.push(k + '=' + (typeof f[k] === 'string' ? f[k] : JSON.stringify(f[k])));
  };
  ['state', 'message', 'text', 'id', 'name', 'input', 'output', 'error', 'question', 'answer', 'kind', 'item_id', 'status', 'reason', 'code', 'next_seq', 'more'].forEach(add);
  return printable(parts.filter(Boolean).join(' '));
}

/**
 * Opens an agent channel for `op` (an AgentSessionOpen object); `onFrame` gets each admitted frame.
 * Resolves with {channel, conn, sessionId, done} once the daemon answered `started`; `done`
 * settles with the exit code (or null) when the channel ends.
 */
async function openAgent(op, onFrame, lastSeq) {
  const { conn, target, daemonKey } = await connection();
  const state = { lastSeq: lastSeq || 0 };
  let started;
  let ended;
  const ready = new Promise((resolve, reject) => (started = { resolve, reject }));
  const done = new Promise((resolve, reject) => (ended = { resolve, reject }));
  done.catch(() => {});
  let exitCode = null;
  const listener = {
    message(m, channel) {
      if (m.started) started.resolve(m.started.session_id || '');
      else if (m.error) {
        const e = new Error(m.error.code + ': ' + printable(m.error.message || ''));
        started.reject(e);
        ended.reject(e);
      } else if (m.exit) exitCode = m.exit.code || 0;
      else if (m.data && m.data.stream === ChannelStream.AGENT) {
        let f;
        try {
          f = admitFrame(m.data.bytes, state);
        } catch (e) {
          channel.fail('malformed_message', 'the machine sent a frame that is not one');
          return;
        }
        if (f) onFrame(f);
      }
    },
    closed(error) {
      conn.close();
      if (error) {
        started.reject(error);
        ended.reject(error);
      } else {
        started.reject(new Error('the machine closed the channel'));
        ended.resolve(exitCode);
      }
    },
  };
  let channel;
  try {
    channel = await conn.open(target, daemonKey, { agent: op }, listener);
  } catch (e) {
    conn.close();
    throw e;
  }
  const sessionId = await ready;
  return { channel, conn, sessionId, done, state };
}

/** Lists the machine's agent sessions (a `list` channel: one `sessions` frame, then close). */
export async function listAgentSessions() {
  setText('agent-error', '');
  let sessions = [];
  const a = await openAgent({ list: {} }, (f) => {
    if (f.type === 'sessions' && Array.isArray(f.sessions)) sessions = f.sessions;
  });
  await a.done;
  const body = $('agent-sessions-body');
  body.replaceChildren(
    ...sessions.map((s) => {
      const watchBtn = el('button', { type: 'button', 'data-watch': String(s.session_id) }, 'Watch');
      watchBtn.addEventListener('click', () => attachSession(String(s.session_id), 1).catch(showError));
      const tr = el('tr', { 'data-session': String(s.session_id) });
      for (const c of ['session_id', 'runtime', 'state', 'watchers', 'frames', 'started_at', 'exit_status']) tr.append(el('td', { 'data-col': c }, printable(s[c])));
      tr.append(el('td', {}, watchBtn));
      return tr;
    }),
  );
  setText('agent-note', sessions.length === 0 ? 'no agent session on this machine' : sessions.length + ' session(s)');
  return sessions;
}

function showError(e) {
  setText('agent-error', e && e.message ? e.message : String(e));
}

function showFrame(f) {
  const list = $('agent-frames');
  const line = el('li', { 'data-type': f.type, 'data-seq': f.seq ? String(f.seq) : '' }, frameText(f));
  if (f.type === 'approval_request' && typeof f.id === 'string') {
    for (const answer of ['approve', 'deny']) {
      const b = el('button', { type: 'button', 'data-approval': f.id, 'data-answer': answer }, answer === 'approve' ? 'Approve' : 'Deny');
      b.addEventListener('click', () => sendApproval(f.id, answer).catch(showError));
      line.append(' ', b);
    }
  }
  list.append(line);
  while (list.children.length > MAX_SHOWN) list.firstChild.remove();
  list.dataset.frames = String(Number(list.dataset.frames || 0) + 1);
}

async function watching(open, from) {
  detachSession();
  setText('agent-error', '');
  $('agent-frames').replaceChildren();
  $('agent-frames').dataset.frames = '0';
  setState('opening');
  const a = await openAgent(open, showFrame, from > 0 ? from - 1 : 0);
  watch = a;
  setText('agent-session', a.sessionId);
  setState('watching', 'session ' + a.sessionId);
  a.done.then(
    (code) => {
      if (watch === a) setState(code === null ? 'detached' : 'ended', code === null ? '' : 'exit status ' + code);
    },
    (e) => {
      if (watch === a) {
        setState('closed', e.reason || '');
        showError(e);
      }
    },
  );
}

/** Starts the configured runtime named in the runtime field and watches its session. */
export async function startSession() {
  const runtime = $('agent-runtime').value.trim();
  if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(runtime)) throw new Error('a runtime id the machine configures, e.g. "claude"');
  await watching({ start: { runtime } }, 0);
}

/** Watches `sessionId` from frame `from` (1: every kept frame; 0: new frames only). */
export async function attachSession(sessionId, from) {
  const id = sessionId || $('agent-attach-id').value.trim();
  if (!id) throw new Error('a session id');
  await watching({ attach: { session_id: id, from_seq: from === undefined ? 1 : from } }, from === undefined ? 1 : from);
}

export function detachSession() {
  if (watch) {
    const w = watch;
    watch = null;
    w.channel.close();
    w.conn.close();
    setState('detached');
  }
}

/** Sends the prompt field's text to the watched session (echoed to every watcher as a frame). */
export async function sendPrompt() {
  if (!watch) throw new Error('watch a session first');
  const text = $('agent-prompt').value;
  if (!text) return;
  await watch.channel.sendAgent({ type: 'prompt', text });
  $('agent-prompt').value = '';
}

export async function sendApproval(id, answer) {
  if (!watch) throw new Error('watch the session first');
  await watch.channel.sendAgent({ type: 'approval', id, answer });
}

/** One page of the transcript, read from the daemon's disk: `from` the first frame, `limit` at most 500. */
export async function transcriptPage(from) {
  const id = $('agent-transcript-id').value.trim() || (watch && watch.sessionId) || '';
  if (!id) throw new Error('a session id');
  const first = from || 1;
  const limit = Math.max(1, Math.min(500, Number($('agent-limit').value) || 50));
  const frames = [];
  let page = null;
  const a = await openAgent({ transcript: { session_id: id, from_seq: first, limit } }, (f) => {
    if (f.type === 'page') page = f;
    else frames.push(f);
  }, first - 1);
  await a.done;
  $('agent-transcript').replaceChildren(...frames.map((f) => el('li', { 'data-type': f.type, 'data-seq': f.seq ? String(f.seq) : '' }, frameText(f))));
  pageFrom = page && page.more ? page.next_seq : 0;
  $('agent-transcript').dataset.from = String(first);
  $('agent-next').disabled = !pageFrom;
  setText('agent-page', frames.length + ' frame(s) from #' + first + (page && page.more ? '; more from #' + page.next_seq : '; the end'));
}

export function nextTranscriptPage() {
  return transcriptPage(pageFrom || 1);
}
