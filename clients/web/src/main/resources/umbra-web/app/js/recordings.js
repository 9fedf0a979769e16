// The recordings panel (docs/web.md "Recordings"): this workspace's recorded sessions from the
// webtty-engine (CORS for this origin only, the bearer token in the Authorization header), one
// downloaded as ciphertext and decrypted here (recording-decrypt.js), replayed in xterm.js with its
// original timing (play/pause, 1x/2x/4x, seek), searched and exported as text — all in the page.

import { fromHex } from './bytes.js';
import { decryptRecording } from './recording-decrypt.js';
import { el, printable, setText } from './view.js';

const RECORDINGS = '/v1/webtty/recordings';
let ctx = null; // {api, workspace, device}
let rec = null; // {sessionId, chunks, startMs, endMs, text, marks}
let player = null; // {term, index, clockMs, speed, timer, playing}

function $(id) {
  return document.getElementById(id);
}

async function engine() {
  const d = await ctx.api.get('/v1/discovery');
  const url = d && d.services && d.services['webtty-engine'];
  const m = typeof url === 'string' && /^(https?:\/\/[^/?#]+)/.exec(url);
  if (!m) throw new Error('the discovery document names no webtty-engine');
  const t = await ctx.api.post('/v1/sessions', { workspace_id: ctx.workspace, audience: 'webtty-engine', device_id: ctx.device.deviceId });
  return { base: m[1], token: t.token };
}

async function get(path) {
  const { base, token } = await engine();
  const res = await fetch(base + path, {
    headers: { authorization: 'Bearer ' + token },
    cache: 'no-store',
    credentials: 'omit',
    redirect: 'error',
    referrerPolicy: 'no-referrer',
  });
  if (!res.ok) throw new Error('the engine answered HTTP ' + res.status + ' for ' + path.split('?')[0]);
  return res;
}

export function enableRecordings(api, workspace, device) {
  ctx = { api, workspace, device };
  $('recordings').hidden = false;
}

export function disableRecordings() {
  stop();
  ctx = null;
  $('recordings').hidden = true;
}

function error(e) {
  setText('recordings-error', e ? e.message || String(e) : '');
}

/** Lists the sessions the engine lets this member replay (names as text only). */
export async function listRecordings() {
  error(null);
  try {
    const body = await (await get(RECORDINGS + '?limit=50')).json();
    $('recordings-body').replaceChildren(
      ...(body.sessions || []).map((s) => {
        const play = el('button', { type: 'button', 'data-session': s.session_id }, 'Replay');
        play.addEventListener('click', () => openRecording(s.session_id));
        return el(
          'tr',
          { 'data-session': s.session_id },
          el('td', { class: 'mono' }, printable(s.session_id)),
          el('td', {}, printable(s.server_id)),
          el('td', {}, printable(s.started_at)),
          el('td', {}, printable(s.end_reason || (s.ended_at ? 'ended' : 'live'))),
          el('td', {}, printable(String(s.events))),
          el('td', {}, play),
        );
      }),
    );
    $('recordings-body').dataset.loaded = 'true';
  } catch (e) {
    error(e);
  }
}

/** Downloads `sessionId`'s ciphertext, decrypts it here and loads the player (paused at 0). */
export async function openRecording(sessionId) {
  error(null);
  stop();
  setText('recording-notes', '');
  $('recording-player').dataset.state = 'loading';
  try {
    const bytes = new Uint8Array(await (await get(RECORDINGS + '/' + encodeURIComponent(sessionId))).arrayBuffer());
    const me = { privateKey: ctx.device.webtty.privateKey, publicRaw: fromHex(ctx.device.x25519PublicKey) };
    const r = await decryptRecording(bytes, ctx.workspace, me);
    load(r);
  } catch (e) {
    $('recording-player').dataset.state = 'refused';
    error(e);
  }
}

function load(r) {
  const chunks = r.chunks;
  const startMs = chunks.length ? chunks[0].timeMs : 0;
  const endMs = chunks.length ? chunks[chunks.length - 1].timeMs : 0;
  const decoder = new TextDecoder('utf-8');
  const marks = []; // [text offset where chunk i's output starts]
  let text = '';
  const notes = [];
  chunks.forEach((c, i) => {
    marks[i] = text.length;
    if (c.kind === 'output') text += plain(decoder.decode(c.bytes, { stream: true }));
    if (c.kind === 'note') notes.push('[umbra] ' + c.note);
  });
  rec = { sessionId: r.sessionId, chunks, startMs, endMs, text, marks };
  setText('recording-session', r.sessionId);
  setText('recording-notes', notes.join('\n'));
  $('recording-notes').dataset.count = String(notes.length);
  $('recording-seek').max = String(Math.max(0, endMs - startMs));
  $('recording-seek').value = '0';
  $('recording-player').hidden = false; // before open: xterm measures its cells in a visible box
  const div = $('recording-screen');
  div.replaceChildren();
  const cols = Math.min(500, r.size.cols || 80);
  const rows = Math.min(200, r.size.rows || 24);
  const term = new window.Terminal({ cols, rows, scrollback: 10000, fontSize: 14, disableStdin: true });
  term.open(div);
  div.terminal = term; // what the browser tests read the screen through
  player = { term, index: 0, clockMs: 0, speed: Number($('recording-speed').value) || 1, timer: null, playing: false };
  $('recording-player').dataset.state = 'paused';
}

/** The visible text of terminal output: escape sequences and other controls but newlines dropped. */
function plain(s) {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x09\x0b-\x1f\x7f]/g, '');
}

/** Writes chunk i (output or resize) to the player's terminal. */
function render(i, done) {
  const c = rec.chunks[i];
  if (c.kind === 'output') player.term.write(c.bytes, done);
  else if (c.kind === 'resize' && c.cols > 0 && c.rows > 0) player.term.resize(Math.min(500, c.cols), Math.min(200, c.rows));
  else if (c.kind === 'note') player.term.write('\r\n[umbra] ' + c.note + '\r\n');
  else if (c.kind === 'exit') player.term.write('\r\n[umbra] exited with status ' + c.exitStatus + '\r\n');
}

function tick() {
  player.timer = null;
  if (!player.playing) return;
  while (player.index < rec.chunks.length && rec.chunks[player.index].timeMs - rec.startMs <= player.clockMs) {
    render(player.index++);
  }
  $('recording-seek').value = String(player.clockMs);
  if (player.index >= rec.chunks.length) {
    player.playing = false;
    $('recording-player').dataset.state = 'ended';
    return;
  }
  const wait = rec.chunks[player.index].timeMs - rec.startMs - player.clockMs;
  const step = Math.min(Math.max(wait, 0), 250); // the seek bar moves at least 4 times a second
  const at = performance.now();
  player.timer = setTimeout(() => {
    player.clockMs += Math.max(step, (performance.now() - at) * player.speed);
    tick();
  }, step / player.speed);
}

export function playRecording() {
  if (!player || player.playing) return;
  if (player.index >= rec.chunks.length) seekRecording(0);
  player.playing = true;
  $('recording-player').dataset.state = 'playing';
  tick();
}

export function pauseRecording() {
  if (!player) return;
  player.playing = false;
  clearTimeout(player.timer);
  $('recording-player').dataset.state = 'paused';
}

export function setSpeed(speed) {
  if (player) player.speed = speed;
}

/** Jumps to `ms` after the start: the screen is rebuilt from the first event up to there. */
export function seekRecording(ms) {
  if (!player) return;
  player.term.reset();
  player.index = 0;
  player.clockMs = Math.max(0, Math.min(ms, rec.endMs - rec.startMs));
  while (player.index < rec.chunks.length && rec.chunks[player.index].timeMs - rec.startMs <= player.clockMs) {
    render(player.index++);
  }
  $('recording-seek').value = String(player.clockMs);
}

/** The first match of `query` in the decrypted text: shown highlighted, the player moved to it. */
export function searchRecording(query) {
  const out = $('recording-found');
  out.replaceChildren();
  if (!rec || !query) return;
  const at = rec.text.indexOf(query);
  out.dataset.found = String(at >= 0);
  if (at < 0) {
    out.textContent = 'not found';
    return;
  }
  let i = 0;
  while (i + 1 < rec.marks.length && rec.marks[i + 1] <= at) i++;
  const ms = rec.chunks[i].timeMs - rec.startMs;
  pauseRecording();
  seekRecording(ms);
  const before = rec.text.slice(Math.max(0, at - 40), at);
  const after = rec.text.slice(at + query.length, at + query.length + 40);
  out.append('at ' + (ms / 1000).toFixed(1) + ' s: …' + before, el('mark', {}, query), after + '…');
}

/** The whole recording rendered (as at its end) and saved as text, like terminal scrollback. */
export function exportRecording() {
  if (!player) return;
  pauseRecording();
  seekRecording(rec.endMs - rec.startMs);
  player.term.write('', () => {
    const b = player.term.buffer.active;
    const lines = [];
    for (let y = 0; y < b.length; y++) lines.push(b.getLine(y).translateToString(true));
    while (lines.length && lines[lines.length - 1] === '') lines.pop();
    const url = URL.createObjectURL(new Blob([lines.join('\n') + '\n'], { type: 'text/plain' }));
    const a = el('a', { href: url, download: 'umbra-recording-' + rec.sessionId + '.txt' });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
}

function stop() {
  if (player) {
    pauseRecording();
    player.term.dispose();
  }
  player = null;
  rec = null;
}
