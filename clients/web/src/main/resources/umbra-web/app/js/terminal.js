// The terminal panel (docs/web.md "Terminal"): a machine's shell in xterm.js over the page's own
// WebTTY client (webtty.js), or a live session joined as a viewer. xterm.js is the WebJar's
// lib/xterm.js (a classic script: window.Terminal), served same-origin with its SRI hash; it
// renders to canvas, so no style element or innerHTML is needed under the page's CSP.

import { fromHex, toHex, utf8 } from './bytes.js';
import { saveDevice } from './device-store.js';
import { FrameType } from './proto.js';
import { el, fillMachines, printable, setText } from './view.js';
import { WebTtySession } from './webtty.js';
import { keyId } from './webtty-crypto.js';

let ctx = null; // {api, workspace, device, credential, machines, viewers, members, sharer}
let session = null;
let term = null;
let resizeTimer = null;

function $(id) {
  return document.getElementById(id);
}

function setState(state, detail) {
  $('terminal-state').dataset.state = state;
  setText('terminal-state', state + (detail ? ' — ' + detail : ''));
}

/** The engine's origin from the discovery document: `{http, ws}` (same host and port). */
async function engineOrigin(api) {
  const d = await api.get('/v1/discovery');
  const url = d && d.services && d.services['webtty-engine'];
  const m = typeof url === 'string' && /^(https?):\/\/([^/?#]+)/.exec(url);
  if (!m) throw new Error('the discovery document names no webtty-engine');
  return { http: m[1] + '://' + m[2], ws: (m[1] === 'https' ? 'wss://' : 'ws://') + m[2] }; // docs/webtty.md
}

async function engineUrl(api) {
  return (await engineOrigin(api)).ws;
}

/** The machine record's keys and this browser's pin (first use) must both be the hello's. */
async function trustServer(serverId, signingHex, agreementHex) {
  const m = ctx.machines.find((x) => x.id === serverId);
  if (!m || m.ed25519_public_key !== signingHex || m.x25519_public_key !== agreementHex) {
    throw new Error('the WebTTY server\'s keys are not those of machine ' + serverId + ' in the workspace; refusing to send anything');
  }
  const pins = ctx.device.serverPins || (ctx.device.serverPins = {});
  const seen = signingHex + ' ' + agreementHex;
  if (pins[serverId] && pins[serverId] !== seen) {
    throw new Error('the keys of WebTTY server ' + serverId + ' changed since this browser pinned them; refusing to send anything');
  }
  if (!pins[serverId]) {
    pins[serverId] = seen;
    await saveDevice(ctx.device);
  }
}

/**
 * Shows the panel for a trusted browser: `machines` as listed, `credential` its signed credential,
 * `viewers` the other trusted devices with a verified WebTTY key (who a session may be granted to,
 * each with the account the control plane says it is of), `members` the workspace's members (to
 * share by name) and `sharer` this browser's credential and WebTTY key binding as served (what a
 * share it signs as a controller who is not the opener names), or null.
 */
export function enableTerminal(api, workspace, device, credential, machines, viewers, more) {
  const { members, sharer } = more || {};
  ctx = { api, workspace, device, credential, machines, viewers, members: members || [], sharer: sharer || null };
  const member = $('terminal-share-member');
  const memberChosen = member.value;
  member.replaceChildren(
    ...ctx.members
      .map((m) => [m, viewers.filter((v) => v.accountId === m.account_id).length])
      .filter(([, n]) => n > 0)
      .map(([m, n]) => {
        const o = document.createElement('option');
        o.value = String(m.account_id);
        o.textContent = printable(m.name) + ' (' + n + ' trusted device' + (n === 1 ? '' : 's') + ')';
        return o;
      }),
  );
  if (memberChosen) member.value = memberChosen;
  const checked = new Set([...document.querySelectorAll('#terminal-viewers input:checked')].map((i) => i.value));
  $('terminal-viewers').replaceChildren(
    ...viewers.map((v) => {
      const box = el('input', { type: 'checkbox', value: v.id });
      box.checked = checked.has(v.id);
      return el('label', { 'data-device': v.id }, box, ' ' + printable(v.name));
    }),
  );
  fillMachines('terminal-machine', machines);
  $('terminal').hidden = false;
}

export function disableTerminal() {
  closeTerminal();
  ctx = null;
  $('terminal').hidden = true;
}

function screen() {
  if (term) term.dispose();
  const div = $('terminal-screen');
  div.replaceChildren();
  term = new window.Terminal({ cols: 80, rows: 24, scrollback: 5000, fontSize: 14 });
  term.open(div);
  div.terminal = term; // what the browser tests read the screen through
  fit();
  return term;
}

/**
 * Keystroke to screen: from xterm's onData of a key to the end of parsing the next output written
 * after it (its write callback), the last 1000 kept on the screen element for the measurements.
 */
function echoed(div) {
  if (div.keyAt === undefined) return;
  div.latencies.push(performance.now() - div.keyAt);
  if (div.latencies.length > 1000) div.latencies.shift();
  div.keyAt = undefined;
}

/**
 * Where the time of the page's data path goes (docs/benchmarks.md "Browser terminal"): the last
 * 1000 durations (ms) of each stage on the screen element, read by WebTerminalBench. `key`: a
 * key's keydown to xterm's onData; `seal`: a keystroke from onData to its sealed frame handed to
 * the WebSocket; `engine`: from there to the arrival of the next output frame (network, engine,
 * daemon, shell and back: outside the page); `queue`: an output frame
 * waiting for the frames before it; `decrypt`: its opening; `xterm`: its write to the end of xterm
 * parsing it (xterm's write callback).
 */
function stage(div, name, ms) {
  const a = div.stages[name] || (div.stages[name] = []);
  a.push(ms);
  if (a.length > 1000) a.shift();
}

/** The largest output written right after a keystroke that is parsed at once (an echo, a prompt). */
const ECHO_MAX = 4096;

/**
 * Parses what `tty` was just given now instead of on xterm's next timer task: xterm.js 4's write
 * buffer always waits for a setTimeout before parsing, which under load is where the keystroke
 * tail came from (docs/benchmarks.md "Browser terminal"). xterm.js 5 and later do the same for the
 * first write after user input (`WriteBuffer.handleUserInput`); 4.9 has no such switch, so its
 * buffer is drained here (its own method: callbacks, order and the 12 ms slice kept; the timer
 * then finds it empty).
 */
function parseNow(tty) {
  const buffer = tty._core && tty._core._writeBuffer;
  if (buffer && typeof buffer._innerWrite === 'function') buffer._innerWrite();
}

/** Fits the terminal to its box (what xterm's fit addon does; no WebJar of it exists). */
function fit() {
  const core = term && term._core;
  const dims = core && core._renderService && core._renderService.dimensions;
  const box = $('terminal-screen');
  if (!dims || !dims.actualCellWidth || !dims.actualCellHeight || !box.clientWidth) return;
  const cols = Math.max(20, Math.min(500, Math.floor((box.clientWidth - 20) / dims.actualCellWidth)));
  const rows = Math.max(5, Math.min(200, Math.floor(box.clientHeight / dims.actualCellHeight)));
  if (cols !== term.cols || rows !== term.rows) term.resize(cols, rows);
}

async function start(action) {
  closeTerminal();
  setText('terminal-error', '');
  const { api, workspace, device } = ctx;
  const url = await engineUrl(api);
  const t = await api.post('/v1/sessions', { workspace_id: workspace, audience: 'webtty-engine', device_id: device.deviceId });
  const tty = screen();
  const div = $('terminal-screen');
  div.latencies = [];
  div.stages = {};
  let typed = false; // user input since the last output written
  const s = new WebTtySession({
    url,
    token: t.token,
    freshToken: async () => (await api.post('/v1/sessions', { workspace_id: workspace, audience: 'webtty-engine', device_id: device.deviceId })).token,
    workspaceId: workspace,
    device: Object.assign({}, device, { webttyPublicRaw: fromHex(device.x25519PublicKey) }),
    credential: ctx.credential,
    sharer: ctx.sharer,
    trustServer,
    output: (bytes, at, started, opened) => {
      if (div.handedAt !== undefined) {
        stage(div, 'engine', at - div.handedAt); // the sealed keystroke sent to its echo's arrival
        div.handedAt = undefined;
      }
      tty.write(bytes, () => {
        echoed(div);
        stage(div, 'queue', started - at);
        stage(div, 'decrypt', opened - started);
        stage(div, 'xterm', performance.now() - opened);
      });
      if (typed && bytes.length <= ECHO_MAX) {
        typed = false; // as xterm 5: the first output after user input
        parseNow(tty);
      }
    },
    sent: (keyAt, handed) => {
      stage(div, 'seal', handed - keyAt);
      div.handedAt = handed;
    },
    state: (name, detail) => {
      setState(name, detail);
      if (name === 'closed' || name === 'exited') $('terminal-screen').dataset.live = 'false';
    },
    event: (f) => controlEvent(s, f),
    epoch: (n) => {
      $('terminal-screen').dataset.epoch = String(n);
      setText('terminal-note', 'shared: output key epoch ' + n);
    },
    integrity: (problem, n) => tty.write('\r\n[umbra] ' + (problem === 'output_gap' ? 'output gap: ' + n + ' frame(s) missing' : 'refused a repeated output frame') + '\r\n'),
  });
  session = s;
  $('terminal-requests').replaceChildren();
  setText('terminal-note', '');
  if (!div.keyProbe) {
    div.keyProbe = true; // once per page: the element outlives the sessions
    div.addEventListener('keydown', () => (div.downAt = performance.now()), true);
  }
  tty.onData((d) => {
    div.keyAt = performance.now();
    if (div.downAt !== undefined) stage(div, 'key', div.keyAt - div.downAt); // keydown to xterm's onData
    div.downAt = undefined;
    typed = true;
    s.send(utf8(d));
  });
  tty.onBinary((d) => s.send(Uint8Array.from(d, (c) => c.charCodeAt(0) & 0xff)));
  tty.onResize(({ cols, rows }) => s.resize(cols, rows));
  await action(s, tty);
  setText('terminal-session', s.sessionId);
  $('terminal-screen').dataset.live = 'true';
  $('terminal-screen').dataset.e2e = String(s.e2e === true);
  tty.focus();
}

export function openTerminal() {
  const serverId = $('terminal-machine').value;
  if (!serverId) throw new Error('choose a machine');
  const chosen = new Set([...document.querySelectorAll('#terminal-viewers input:checked')].map((i) => i.value));
  return start((s, tty) => {
    s.o.viewers = ctx.viewers.filter((v) => chosen.has(v.id));
    return s.open(serverId, tty.cols, tty.rows, 'xterm-256color');
  });
}

/** Control requests (the controller may give), changes and refusals, shown as text. */
function controlEvent(s, f) {
  if (f.type === FrameType.CONTROL_REQUEST && f.participant_id !== s.participantId) {
    const b = el('button', { type: 'button', 'data-give': f.participant_id }, 'Give control to ' + printable(f.participant_id));
    b.addEventListener('click', () => {
      s.giveControl(f.participant_id);
      b.remove();
    });
    $('terminal-requests').append(b);
    return;
  }
  if (f.type === FrameType.CONTROL_CHANGED) {
    $('terminal-requests').replaceChildren();
    setText('terminal-note', f.participant_id === s.participantId ? 'control is coming to this browser' : 'control: ' + f.participant_id);
    return;
  }
  if (f.type === FrameType.RESUMED) {
    // engine failover (docs/webtty.md): the same session, keys and role on another engine instance
    const note =
      f.reason === 'edge_failover'
        ? "engine failover: this browser's engine instance died; reconnected to " + s.sessionId + ' through another instance'
        : "engine failover: the session's engine instance died; reconnected to " + s.sessionId + ' on another instance';
    setText('terminal-note', note);
    $('terminal-screen').dataset.failovers = String(s.failover.counts.engine_failovers);
    if (term) term.write('\r\n[umbra] ' + note + '\r\n');
    return;
  }
  if (f.reason) setText('terminal-note', f.reason);
}

export function takeControl() {
  if (session) session.takeControl();
}

function sessionToJoin() {
  const id = $('terminal-join-id').value.trim();
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)) throw new Error('a session id is 26 characters (ULID)');
  return id;
}

export function joinTerminal() {
  const id = sessionToJoin();
  return start((s) => s.join(id, false));
}

/** Back into a session this browser opened (after a reload or a lost connection), with control. */
export function attachTerminal() {
  const id = sessionToJoin();
  return start((s) => s.join(id, true));
}

/**
 * Shares the live session this browser opened with the checked trusted devices (`umbra tty share
 * <session> --with <device>`): the daemon starts the next output-key epoch including them; they
 * find it in their live sessions list and join with no key pasted.
 */
export async function shareTerminal() {
  if (!session) throw new Error('open a terminal first');
  const chosen = new Set([...document.querySelectorAll('#terminal-viewers input:checked')].map((i) => i.value));
  const devices = ctx.viewers.filter((v) => chosen.has(v.id));
  if (devices.length === 0) throw new Error('check the devices to share this session with');
  const n = await session.share(devices);
  setText('terminal-note', 'share sent for ' + n + ' device(s)');
}

/**
 * Shares the live session with every trusted device (with a verified WebTTY key) of the chosen
 * member, as `umbra tty share <session> --with <member>` does; the devices already recipients are
 * left out by the share itself.
 */
export async function shareWithMember() {
  if (!session) throw new Error('open or join a terminal first');
  const account = $('terminal-share-member').value;
  const devices = ctx.viewers.filter((v) => v.accountId === account);
  if (!account || devices.length === 0) throw new Error('choose a member with a trusted device that published its WebTTY key');
  const n = await session.share(devices);
  setText('terminal-note', 'share sent for ' + n + ' device(s) of the member');
}

export function requestControl() {
  if (session) session.requestControl();
}

/** Ends the session this page opened (the shell stops), or leaves one it joined. */
export function closeTerminal() {
  if (session && (session.opener || session.attach) && session.live) session.terminate();
  if (session) session.detach();
  session = null;
}

window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(fit, 100);
});

/**
 * The live sessions this member may join, as `umbra tty sessions` lists them (the engine's
 * `GET /v1/webtty/sessions`, CORS for this origin only, the bearer token in the header): admins see
 * every one, others their own and those whose current output key is granted to this browser's
 * WebTTY key. Names as text; "Join" joins as a viewer (the grant decides whether it can read).
 */
export async function listLiveSessions() {
  const { api, workspace, device } = ctx;
  const origin = await engineOrigin(api);
  const t = await api.post('/v1/sessions', { workspace_id: workspace, audience: 'webtty-engine', device_id: device.deviceId });
  const mine = toHex(await keyId(fromHex(device.x25519PublicKey)));
  const res = await fetch(origin.http + '/v1/webtty/sessions?key_id=' + mine, {
    headers: { authorization: 'Bearer ' + t.token },
    cache: 'no-store',
    credentials: 'omit',
    redirect: 'error',
    referrerPolicy: 'no-referrer',
  });
  if (!res.ok) throw new Error('the engine answered HTTP ' + res.status + ' for the live sessions');
  const body = await res.json();
  const machineName = (id) => {
    const m = ctx.machines.find((x) => x.id === id);
    return m ? m.name : id;
  };
  $('terminal-live-body').replaceChildren(
    ...(Array.isArray(body.sessions) ? body.sessions : []).map((s) => {
      const granted = Array.isArray(s.output_recipients) && s.output_recipients.includes(mine);
      const join = el('button', { type: 'button', 'data-join': String(s.session_id) }, 'Join');
      join.addEventListener('click', () => {
        $('terminal-join-id').value = String(s.session_id);
        setText('terminal-error', '');
        joinTerminal().catch((e) => setText('terminal-error', e.message || String(e)));
      });
      return el(
        'tr',
        { 'data-session': String(s.session_id), 'data-grant': String(granted) },
        el('td', { class: 'mono' }, printable(s.session_id)),
        el('td', {}, printable(machineName(s.server_id))),
        el('td', {}, printable(s.opened_by)),
        el('td', {}, printable(s.started_at)),
        el('td', {}, granted ? 'yes' : 'no'),
        el('td', {}, join),
      );
    }),
  );
  $('terminal-live').hidden = false;
  $('terminal-live-body').dataset.loaded = 'true';
}
