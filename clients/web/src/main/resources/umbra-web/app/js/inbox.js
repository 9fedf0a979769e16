// The inbox in the page (docs/web.md, "Plans, inbox, runs and workflows"; docs/agents.md, "Inbox"): the
// decision items this member may see — raised by an agent or by an agent session's runtime on a
// machine — with their deadlines; an open item gets one button per answer (approve or deny, one of
// the options) or a field for a free answer, and the decision reaches the waiting agent at once
// (its long poll wakes on the item's bus channel). The "decided" and "expired" views show who
// decided what and when, and the default an item took at its deadline. Options, questions and
// answers are the agent's words: shown as text only.

import { paths } from './api.js';
import { el, fillRows, printable, setText } from './view.js';

let state = null; // {api, workspace, members}

function $(id) {
  return document.getElementById(id);
}

export function enableInbox(api, workspace) {
  state = { api, workspace, members: [] };
  $('inbox-status').value = 'open';
  api.all(paths.members(workspace)).then((m) => (state.members = m), () => {});
  return listInbox();
}

const memberName = (account) => (state.members.find((m) => m.account_id === account) || {}).name || account;

/** The answers a member may give to an item of this kind. */
function answers(item) {
  if (item.kind === 'approve') return ['approve', 'deny'];
  if (item.kind === 'choose') return item.options || [];
  return null; // a free answer
}

function decisionCell(item) {
  const cell = el('td', { 'data-col': 'decision' });
  const choices = answers(item);
  if (choices === null) {
    const input = el('input', { 'data-inbox-answer': item.id, maxlength: '4096', spellcheck: 'false' });
    const send = el('button', { type: 'button', 'data-inbox-decide': item.id, 'data-answer': '' }, 'Answer');
    send.addEventListener('click', () => decide(item.id, input.value));
    cell.append(input, send);
  } else {
    for (const a of choices) {
      const b = el('button', { type: 'button', 'data-inbox-decide': item.id, 'data-answer': a }, printable(a));
      b.addEventListener('click', () => decide(item.id, a));
      cell.append(b);
    }
  }
  return cell;
}

/** How an item that is no longer open was settled: who decided what and when, or the default at the deadline. */
function outcome(item) {
  if (item.status === 'expired') return 'no decision by the deadline: took its default "' + item.answer + '" at ' + (item.decided_at || item.deadline);
  return 'decided "' + item.answer + '" by ' + memberName(item.decided_by) + ' at ' + item.decided_at;
}

export async function listInbox() {
  const status = $('inbox-status').value;
  const list = await state.api.get(paths.inbox(state.workspace) + '?status=' + encodeURIComponent(status));
  const items = (list.items || []).map((i) =>
    Object.assign({}, i, {
      choices: i.kind === 'choose' ? (i.options || []).join(' | ') : i.kind === 'approve' ? 'approve | deny' : 'free answer',
      from: i.agent_id ? 'agent ' + i.agent_id : 'machine ' + i.machine_id + (i.session_id ? ' session ' + i.session_id : ''),
    }),
  );
  fillRows('inbox-body', items, ['kind', 'question', 'choices', 'default', 'deadline', 'from']);
  const rows = $('inbox-body').children;
  items.forEach((item, i) => {
    rows[i].dataset.item = item.id;
    rows[i].dataset.status = item.status;
    rows[i].append(item.status === 'open' ? decisionCell(item) : el('td', { 'data-col': 'decision' }, printable(outcome(item))));
  });
  const none = { open: 'nothing waits for a decision', decided: 'no decided item', expired: 'no item reached its deadline' };
  setText('inbox-note', items.length === 0 ? none[status] || '' : items.length + ' ' + status + ' item(s)');
}

async function decide(id, answer) {
  setText('inbox-error', '');
  try {
    const item = await state.api.post(paths.inboxDecision(state.workspace, id), { answer });
    setText('inbox-decided', 'decided: ' + item.answer);
    await listInbox();
  } catch (e) {
    setText('inbox-error', e.message);
  }
}
