// The agents panel (docs/web.md "Messaging"): the workspace's agents, a conversation with one of
// them end to end (msg-client.js), live receiving (msg-live.js). Each message is shown once (its
// id), as text only; a refused copy is never shown, only noted ("message <id> refused: <reason>").

import { MessagingClient, msgPaths } from './msg-client.js';
import { LiveReceiver } from './msg-live.js';
import { el, printable, setText, show } from './view.js';

let client = null;
let receiver = null;
let opened = null; // workspace/device the panel runs for
let current = null; // the agent whose conversation is open
let agentsById = new Map();
const shownIds = new Set();

function $(id) {
  return document.getElementById(id);
}

function liveState(state, note) {
  $('messages-live').dataset.state = state;
  setText('messages-live', state + (note ? ': ' + note : ''));
}

function addMessage(entry) {
  if (shownIds.has(entry.id)) return; // shown once, whatever path brought it again
  shownIds.add(entry.id);
  if (entry.agent !== current && entry.from !== 'me') {
    const row = document.querySelector('#agents-body tr[data-agent="' + CSS.escape(entry.agent) + '"] td[data-col=unread]');
    if (row) row.textContent = String(Number(row.textContent || 0) + 1);
    return;
  }
  const who = entry.from === 'me' ? 'you' : printable((agentsById.get(entry.agent) || {}).name || entry.agent);
  $('messages-list').append(
    el('li', { 'data-id': entry.id, 'data-from': entry.from === 'me' ? 'me' : 'agent' }, el('span', { class: 'who' }, who + ': '), printable(entry.text)),
  );
}

function refusedNote(reason) {
  const notes = $('messages-refused');
  notes.append(document.createTextNode(printable(reason) + '\n'));
}

async function outcome(o) {
  if (o.kind === 'stored') addMessage(Object.assign({ from: 'agent' }, o.entry));
  else if (o.kind === 'refused') refusedNote(o.reason);
}

async function fetchAll() {
  for (const o of await client.fetchPending()) await outcome(o);
}

/** Shows the panel for a trusted browser: publishes prekeys, lists agents, starts receiving. */
export async function enableConversations(api, workspace, device) {
  const key = workspace + '/' + device.deviceId;
  if (opened === key) return client ? listAgents() : undefined; // already on (or starting): refresh the list
  disableConversations();
  opened = key;
  show('conversations', true);
  setText('messages-error', '');
  let c;
  try {
    c = await MessagingClient.open(api, workspace, device);
  } catch (e) {
    if (opened === key) opened = null; // the next refresh tries again
    throw e;
  }
  if (opened !== key) return undefined; // disabled meanwhile
  client = c;
  await listAgents();
  // ?frames=batch: several copies a frame (docs/messaging.md "Batches")
  const url = location.origin.replace(/^http/, 'ws') + msgPaths.live(workspace) + '?frames=batch';
  receiver = new LiveReceiver({
    url,
    token: (renew) => client.sessionToken(renew),
    fetch: fetchAll,
    onFrame: (m) => client.receive(m).then(outcome),
    onFrames: (list) => client.receiveAll(list).then((outcomes) => outcomes.forEach(outcome)),
    onState: liveState,
  });
  receiver.start();
}

export function disableConversations() {
  if (receiver) receiver.stop();
  receiver = null;
  client = null;
  opened = null;
  current = null;
  shownIds.clear();
  show('conversations', false);
  show('conversation', false);
}

export async function listAgents() {
  const agents = await client.api.all(msgPaths.agents(client.workspace));
  agentsById = new Map(agents.map((a) => [a.id, a]));
  $('agents-body').replaceChildren(
    ...agents.map((a) => {
      const tr = el('tr', { 'data-agent': a.id }, ...['name', 'status', 'id'].map((c) => el('td', { 'data-col': c }, printable(a[c]))), el('td', { 'data-col': 'unread' }));
      const cell = el('td', { 'data-col': 'actions' });
      if (a.status === 'approved') {
        const b = el('button', { type: 'button', 'data-open': a.id }, 'Open');
        b.addEventListener('click', () => openConversation(a.id).catch((e) => setText('messages-error', e.message)));
        cell.append(b);
      }
      tr.append(cell);
      return tr;
    }),
  );
}

/** Opens the conversation with `agentId`: its history in this browser, then what is pending. */
export async function openConversation(agentId) {
  current = agentId;
  shownIds.clear();
  $('messages-list').replaceChildren();
  setText('conversation-agent', (agentsById.get(agentId) || {}).name || agentId);
  const unread = document.querySelector('#agents-body tr[data-agent="' + CSS.escape(agentId) + '"] td[data-col=unread]');
  if (unread) unread.textContent = '';
  show('conversation', true);
  for (const e of await client.store.history(agentId)) addMessage(Object.assign({ agent: agentId }, e));
  await fetchAll();
}

export async function sendMessage(event) {
  if (event) event.preventDefault();
  const input = $('message-text');
  const text = input.value;
  if (!current || !text) return;
  setText('messages-error', '');
  const id = await client.send(current, text);
  input.value = '';
  addMessage({ id, agent: current, from: 'me', text });
}
