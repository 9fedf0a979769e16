// The workspace's audit log in the page (docs/web.md, "Audit"; docs/audit.md): recent events with
// filters, the live tail (the same feed as `umbra audit tail`) and the chain verified here. The audit
// service is another origin (listed in connect-src; it allows this origin, CORS). Each call gets a
// session token for audience `audit` from the control plane, as the CLI does; it lives only in the
// call. A browser cannot put Authorization on a WebSocket, so the tail is the SSE stream read with
// fetch.

import { ApiError } from './api.js';
import { verifyAuditChain } from './audit-chain.js';
import { el, printable, setText } from './view.js';

const SHOWN = 200; // rows kept in the table

let state = null; // {api, workspace, base, abort, filter}

function $(id) {
  return document.getElementById(id);
}

async function auditBase(api) {
  const d = await api.get('/v1/discovery');
  const url = d && d.services && d.services.audit;
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new Error('the discovery document names no audit service');
  return url.replace(/\/+$/, '');
}

async function auditFetch(s, operation, query, accept, signal) {
  const session = await s.api.post('/v1/sessions', { workspace_id: s.workspace, audience: 'audit' });
  const url = s.base + '/v1/workspaces/' + encodeURIComponent(s.workspace) + '/audit/' + operation + (query ? '?' + query : '');
  const res = await fetch(url, {
    headers: { authorization: 'Bearer ' + session.token, accept },
    cache: 'no-store',
    credentials: 'omit',
    redirect: 'error',
    referrerPolicy: 'no-referrer',
    signal,
  });
  if (!res.ok) {
    let message = 'HTTP ' + res.status;
    try {
      const err = (await res.json()).error || {};
      message = String(err.message || message);
    } catch (e) {
      // keep the status
    }
    throw new ApiError(res.status, 'audit', res.status === 403 ? 'reading the audit log needs the admin or owner role' : message);
  }
  return res;
}

/** The filter fields: action (comma separated), actor (id or kind:id), from/to (local time). */
function readFilter() {
  const time = (id) => {
    const v = $(id).value;
    return v ? new Date(v).getTime() : null;
  };
  return {
    actions: $('audit-action').value.split(',').map((a) => a.trim()).filter((a) => a),
    actor: $('audit-actor').value.trim(),
    from: time('audit-from'),
    to: time('audit-to'),
  };
}

function query(f) {
  const q = new URLSearchParams({ order: 'desc', limit: String(SHOWN) });
  if (f.actions.length) q.set('action', f.actions.join(','));
  if (f.actor) q.set('actor', f.actor);
  if (f.from !== null) q.set('from', String(f.from));
  if (f.to !== null) q.set('to', String(f.to));
  return q.toString();
}

/** The same filter on a live event (the query route applies it to the history). */
function matches(f, e) {
  const actor = e.actor || {};
  return (
    (!f.actions.length || f.actions.includes(e.action)) &&
    (!f.actor || f.actor === actor.id || f.actor === actor.kind + ':' + actor.id) &&
    (f.from === null || e.time_unix_ms >= f.from) &&
    (f.to === null || e.time_unix_ms < f.to)
  );
}

function row(e) {
  const actor = e.actor || {};
  const cells = {
    seq: e.seq,
    time: e.time,
    actor: actor.kind + ':' + actor.id,
    action: e.action,
    target: e.target,
    outcome: e.outcome,
  };
  return el('tr', { 'data-id': printable(e.id) }, ...Object.entries(cells).map(([c, v]) => el('td', { 'data-col': c }, printable(v))));
}

function prepend(e) {
  const body = $('audit-body');
  body.prepend(row(e));
  while (body.children.length > SHOWN) body.lastChild.remove();
}

function setTail(status, text) {
  $('audit-tail').dataset.state = status;
  setText('audit-tail', text);
}

/** Reads the SSE stream: `event: audit` blocks carry one event as JSON (docs/audit.md, section 7). */
async function follow(s, res) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return 'the audit service closed the tail';
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      const kind = (block.find((l) => l.startsWith('event: ')) || '').slice(7);
      const data = block.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (block.some((l) => l.startsWith(': tail of '))) setTail('live', 'live');
      if (kind === 'audit') {
        const e = JSON.parse(data);
        if (e.workspace_id === s.workspace && matches(s.filter, e)) prepend(e);
      } else if (kind === 'dropped') {
        setText('audit-note', 'the tail fell behind and missed ' + JSON.parse(data).dropped + ' events: Apply reloads them');
      } else if (kind === 'revoked') {
        return 'the session was revoked';
      }
    }
  }
}

async function load(s) {
  s.filter = readFilter();
  const res = await auditFetch(s, 'events', query(s.filter), 'application/json', s.abort.signal);
  const page = await res.json();
  $('audit-body').replaceChildren(...page.events.filter((e) => e.workspace_id === s.workspace).map(row));
}

async function tail(s) {
  setTail('opening', 'opening');
  try {
    const res = await auditFetch(s, 'tail', '', 'text/event-stream', s.abort.signal);
    setTail('ended', await follow(s, res));
  } catch (e) {
    if (s.abort.signal.aborted) return;
    setTail('ended', 'ended: ' + (e.message || e));
  }
}

/** Fetches the whole chain (the export, oldest first) and verifies it in this page. */
async function verify() {
  const s = state;
  const verdict = $('audit-verdict');
  verdict.dataset.verdict = 'checking';
  setText('audit-verdict', 'checking');
  const res = await auditFetch(s, 'export', 'order=asc', 'application/x-ndjson', s.abort.signal);
  const lines = (await res.text()).split('\n').filter((l) => l.trim());
  let events;
  try {
    events = lines.map((l) => JSON.parse(l));
  } catch (e) {
    events = null;
  }
  const r = events ? await verifyAuditChain(events, s.workspace) : { ok: false, seq: 0, eventId: '', reason: 'malformed_row', detail: 'a line is not JSON' };
  verdict.dataset.verdict = r.ok ? 'ok' : 'broken';
  setText(
    'audit-verdict',
    r.ok
      ? 'verified in this browser: ' + r.checked + ' events, head ' + r.head
      : 'BROKEN at seq ' + r.seq + (r.eventId ? ' (' + r.eventId + ')' : '') + ': ' + r.reason + ' (' + r.detail + ')',
  );
}

/** Shows the audit section for the workspace: history, then the live tail. */
export async function openAudit(api, workspace) {
  closeAudit();
  setTail('opening', 'opening');
  const s = { api, workspace, base: await auditBase(api), abort: new AbortController(), filter: readFilter() };
  state = s;
  setText('audit-note', '');
  setText('audit-verdict', '');
  $('audit-verdict').dataset.verdict = 'none';
  await load(s);
  tail(s); // runs until closed
}

export function closeAudit() {
  if (state) state.abort.abort();
  state = null;
  setTail('closed', '');
}

/** Apply: reloads the history with the filters and reopens the tail with them. */
export async function applyFilter() {
  if (!state) return;
  await openAudit(state.api, state.workspace);
}

export { verify as verifyAudit };

/**
 * Who opened relay channel `channel` (hex), as its `relay.channel_opened` event names them: the
 * event's actor, or null when no such event within 10 minutes before `aroundMs` (and one after) is
 * in the log this member may read. The audit service's word: the chain is verified by "Verify".
 */
export async function channelOpener(api, workspace, channel, aroundMs) {
  const s = { api, workspace, base: await auditBase(api) };
  const q = new URLSearchParams({
    order: 'desc',
    limit: String(SHOWN),
    action: 'relay.channel_opened',
    from: String(aroundMs - 600_000),
    to: String(aroundMs + 60_000),
  });
  const page = await (await auditFetch(s, 'events', q.toString(), 'application/json', undefined)).json();
  const e = (page.events || []).find((x) => x.workspace_id === workspace && x.metadata && x.metadata.channel === channel);
  return e ? Object.assign({ time: e.time }, e.actor) : null;
}
